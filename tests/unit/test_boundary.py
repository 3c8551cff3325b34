"""The domain never imports the frameworks around it (DESIGN.md, layout)."""

import subprocess
import sys

FRAMEWORKS = ("flask", "flask_restx", "celery", "apscheduler", "werkzeug")


def test_scale_imports_no_web_or_task_framework():
    code = (
        "import importlib, pkgutil, sys\n"
        "import scale\n"
        "for info in pkgutil.walk_packages(scale.__path__, 'scale.'):\n"
        "    importlib.import_module(info.name)\n"
        f"print(','.join(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"scale/ imported: {out.stdout.strip()}"
