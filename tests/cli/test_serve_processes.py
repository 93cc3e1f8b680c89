"""What the processes of ``thirdway serve`` load: the supervisor no Django, web code no scipy."""

from __future__ import annotations

import os
import subprocess
import sys


def _python(home, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    env["THIRDWAY_HOME"] = str(home)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_supervisor_loads_the_standard_library_only(tmp_path):
    loaded = _python(
        tmp_path,
        "import sys\n"
        "before = set(sys.modules)\n"
        "import thirdway.cli, thirdway.supervisor\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names)))",
    )
    assert loaded == "['thirdway']"


def test_the_preloaded_web_code_leaves_scipy_to_the_queue_replan(tmp_path):
    loaded = _python(
        tmp_path,
        "import os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'thirdway.settings'\n"
        "import thirdway.wsgi\n"
        "from thirdway import gunicorn_config\n"
        "gunicorn_config.preload()\n"
        "assert 'thirdway.tickets.views.queues' in sys.modules  # every view is loaded\n"
        "print('scipy' in sys.modules)\n"
        "from thirdway.dispatch import optimiser\n"
        "import numpy as np\n"
        "optimiser._solve_dense(np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([9.0, 9.0]))\n"
        "print('scipy' in sys.modules)\n",
    )
    assert loaded.split() == ["False", "True"]
