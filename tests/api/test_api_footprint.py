import subprocess
import sys


def test_api_never_imports_torch_or_transformers() -> None:
    code = (
        "import sys; from api.main import create_app; create_app(); "
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
