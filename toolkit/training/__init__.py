"""Compile/fit defaults, schedules, the LR finder, fine-tuning stages and seeding."""
