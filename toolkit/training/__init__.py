"""Compile/fit defaults, schedules, the LR finder, fine-tuning stages, seeding, sharpness-aware
steps, fitting under several replicas, and output layers solved in closed form."""
