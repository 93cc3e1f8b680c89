"""The SLA clocks of tickets: the joining code between tickets and the SLA engine, and the
sweep that fires escalation steps."""
