#!/usr/bin/env python
"""Known vulnerabilities in the installed packages (pip-audit against PyPI's advisory data).

Exit status: 0 when every package was audited and none has a known vulnerability that is not excepted
below; 1 when one has. When the advisory data cannot be reached (no network, or PyPI does not answer
for a release) the packages it could not audit are listed as NOT AUDITED: that is not a pass, and with
SUPPLY_CHAIN_STRICT=true it fails (exit 2); without it the run goes on, so that an offline machine can
still run the rest of the tests.
"""

import json
import os
import subprocess
import sys

# Excepted advisories, each with the reason it does not apply: {"GHSA-xxxx-xxxx-xxxx": "why"}.
EXCEPTED: dict[str, str] = {}


def main() -> int:
    argv = [
        sys.executable,
        "-m",
        "pip_audit",
        "--progress-spinner",
        "off",
        "--skip-editable",
        "--format",
        "json",
    ]
    for advisory in EXCEPTED:
        argv += ["--ignore-vuln", advisory]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)  # noqa: S603 - fixed argv
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(f"pip-audit did not run: {done.stderr.strip()[-2000:]}", file=sys.stderr)
        return 2
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unaudited = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(unaudited)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if unaudited:
        print(
            f"NOT AUDITED: {len(unaudited)} of {len(dependencies)} packages; PyPI's advisory data did not "
            f"answer for them (first: {unaudited[0]['skip_reason']}). Their vulnerabilities are unknown."
        )
    print(f"pip-audit: {audited} packages audited, {len(vulnerable)} with known vulnerabilities.")
    if vulnerable:
        return 1
    if unaudited and os.environ.get("SUPPLY_CHAIN_STRICT", "").lower() == "true":
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
