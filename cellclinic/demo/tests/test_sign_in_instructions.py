"""What `cellclinic demo` prints: the demo sign-ins, and how demo staff set up their second factor."""

import io

from django.core.management.base import OutputWrapper

from cellclinic.demo.management.commands.demo import Command


def test_the_demo_says_how_staff_set_up_the_second_factor():
    out = io.StringIO()
    command = Command(stdout=out)
    command.stdout = OutputWrapper(out)
    command.print_sign_ins()
    text = out.getvalue()
    assert "second factor" in text and "authenticator app" in text and "recovery codes" in text
    assert "oathtool --totp -b SECRET" in text
