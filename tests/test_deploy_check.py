"""Production settings from the environment pass Django's deployment checks, warnings included."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 10 + "-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "CELLCLINIC_REQUIRE_SECRET_KEY": "true",
    "ALLOWED_HOSTS": "clinic.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://clinic.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def _check(tmp_path, **overrides) -> subprocess.CompletedProcess:
    # Only what a process needs to run, so nothing of the test process (such as its async switch) leaks in.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(PRODUCTION)
    env.update(overrides)
    env["CELLCLINIC_VAR_DIR"] = str(tmp_path)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = _check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "value", "warning"),
    [
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("SECURE_SSL_REDIRECT", "false", "security.W008"),
        ("SESSION_COOKIE_SECURE", "false", "security.W012"),
        ("CSRF_COOKIE_SECURE", "false", "security.W016"),
    ],
)
def test_each_setting_is_read_from_the_environment(tmp_path, name, value, warning):
    result = _check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_the_proxy_header_is_read_from_the_environment():
    from django.conf import settings

    # The test process runs without it: a forged X-Forwarded-Proto must not make a request "secure".
    assert getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is None
