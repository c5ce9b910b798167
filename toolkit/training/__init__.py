"""Compile/fit defaults, schedules, the LR finder, fine-tuning stages, seeding, sharpness-aware
steps and fitting under several replicas."""
