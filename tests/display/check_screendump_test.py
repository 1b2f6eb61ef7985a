#!/usr/bin/env python3
"""Runs the board's screen-dump checker (vmm/display/tools/check-screendump) on the PPMs that
display_screendump_test wrote from the headless target: each expected persona is recognised,
every other combination is a mismatch (exit 1), an unreadable dump is exit 2.

    check_screendump_test.py CHECKER DUMP_DIR
"""
import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = None
DUMPS = None


def check(name, expected):
    path = name if os.path.isabs(name) else os.path.join(DUMPS, name)
    return subprocess.run([sys.executable, CHECKER, path, expected], capture_output=True, text=True, timeout=60)


def check_prompt(name, *args):
    return subprocess.run([sys.executable, CHECKER, os.path.join(DUMPS, name), "prompt", *args],
                          capture_output=True, text=True, timeout=60)


class CheckScreendumpTest(unittest.TestCase):
    def test_personal_screen_is_recognised_as_personal(self):
        result = check("personal.ppm", "personal")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("indicator personal", result.stdout)
        self.assertIn("pattern personal", result.stdout)

    def test_notice_mark_is_recognised(self):
        result = subprocess.run([sys.executable, CHECKER, os.path.join(DUMPS, "personal-secure-notice.ppm"), "personal",
                                 "--notice", "secure"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("notice secure", result.stdout)
        # Still personal's screen without the option; and a plain screen has no mark.
        self.assertEqual(check("personal-secure-notice.ppm", "personal").returncode, 0)
        for name, notice in (("personal.ppm", "secure"), ("personal-secure-notice.ppm", "none")):
            result = subprocess.run([sys.executable, CHECKER, os.path.join(DUMPS, name), "personal", "--notice", notice],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 1, name + ": " + result.stdout + result.stderr)

    def test_secure_screen_is_recognised_as_secure(self):
        result = check("secure.ppm", "secure")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("indicator secure", result.stdout)
        self.assertIn("marker secure", result.stdout)

    def test_personal_screen_is_not_secure(self):
        result = check("personal.ppm", "secure")
        self.assertEqual(result.returncode, 1)
        self.assertIn("MISMATCH: expected secure", result.stderr)

    def test_secure_screen_is_not_personal(self):
        self.assertEqual(check("secure.ppm", "personal").returncode, 1)

    def test_secure_strip_over_personal_content_matches_neither(self):
        as_secure = check("forged-strip.ppm", "secure")
        self.assertEqual(as_secure.returncode, 1)
        self.assertIn("pattern personal", as_secure.stderr)
        self.assertEqual(check("forged-strip.ppm", "personal").returncode, 1)

    def test_personal_guest_drawing_the_secure_pattern_matches_neither(self):
        as_secure = check("personal-draws-secure.ppm", "secure")
        self.assertEqual(as_secure.returncode, 1)
        self.assertIn("indicator personal", as_secure.stderr)
        self.assertEqual(check("personal-draws-secure.ppm", "personal").returncode, 1)

    def test_pin_prompt_is_recognised_with_its_dots_and_status_line(self):
        result = check_prompt("pin-prompt.ppm", "3", "24")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("3 dots", result.stdout)

    def test_pin_prompt_with_other_dots_or_status_is_a_mismatch(self):
        self.assertEqual(check_prompt("pin-prompt.ppm", "4").returncode, 1)
        self.assertEqual(check_prompt("pin-prompt.ppm", "3", "9").returncode, 1)

    def test_a_guest_screen_is_not_the_pin_prompt(self):
        result = check_prompt("secure.ppm", "0")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not the prompt", result.stderr)

    def test_strip_without_guest_pixels_is_a_mismatch(self):
        result = check("secure-no-guest.ppm", "secure")
        self.assertEqual(result.returncode, 1)
        self.assertIn("pattern unknown", result.stderr)

    def test_truncated_dump_is_exit_2(self):
        with open(os.path.join(DUMPS, "secure.ppm"), "rb") as f:
            head = f.read(1000)
        with tempfile.NamedTemporaryFile(suffix=".ppm", delete=False) as f:
            f.write(head)
        try:
            result = check(f.name, "secure")
        finally:
            os.unlink(f.name)
        self.assertEqual(result.returncode, 2)
        self.assertIn("pixel bytes", result.stderr)


if __name__ == "__main__":
    CHECKER, DUMPS = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
