"""The alert engine: pure Python, no Django, so simulations and benchmarks run it bare.

``states`` turns one check's results into soft and hard states, flapping, and what to do about
its alert (dependencies and maintenance included); ``metrics`` turns a measured value into a
status with separate recovery thresholds; ``windows`` says whether a maintenance window covers
an instant.  The room's services store the states and carry out the actions.
"""

from thirdway.monitoring.engine.metrics import Thresholds, classify
from thirdway.monitoring.engine.states import (
    PROBLEMS,
    Action,
    CheckState,
    Do,
    Outcome,
    Policy,
    Result,
    StateType,
    Status,
    Surroundings,
    flap_share,
    observe,
    reconsider,
    status_of_exit_code,
)
from thirdway.monitoring.engine.windows import OneOffWindow, WeeklyWindow, Window, covering

__all__ = [
    "PROBLEMS",
    "Action",
    "CheckState",
    "Do",
    "OneOffWindow",
    "Outcome",
    "Policy",
    "Result",
    "StateType",
    "Status",
    "Surroundings",
    "Thresholds",
    "WeeklyWindow",
    "Window",
    "classify",
    "covering",
    "flap_share",
    "observe",
    "reconsider",
    "status_of_exit_code",
]
