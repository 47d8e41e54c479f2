"""Run one module of CPython's test suite and record each test case's outcome as JSON lines.

Usage: python3 case_runner.py MODULE OUTPUT [TIMEOUT]

MODULE is a module name such as test_os (looked up in the interpreter's `test` package) or a
dotted name such as test.test_os. OUTPUT receives one JSON object per line:

    {"event": "start", "id": CASE}                       before each case runs
    {"event": "case", "id": CASE, "outcome": O, "detail": TEXT}
    {"event": "done", "cases": N}                        after the last case

where O is "pass", "fail", "error" or "skip", and TEXT is the traceback or the skip reason.
An expected failure counts as a pass and an unexpected success as a failure. A failing
subtest makes its whole case fail. Errors raised outside a case (setUpClass, setUpModule,
import errors) are recorded as cases of their own, with the id unittest gives them.

The file is written line by line and flushed, so a run that crashes or hangs still leaves the
cases it finished. When TIMEOUT (seconds) is given, faulthandler writes every thread's stack
to OUTPUT.stack and exits the process after that time, which shows where a hanging case
stopped. The stacks go to a file of their own because some tests replace fds 0 to 2.

compat/cpython.py runs this script once natively and once under cordon. Standard library
only; it runs on the interpreter whose test suite it runs.
"""

import faulthandler
import importlib
import json
import sys
import traceback
import unittest

# Outcome ranks: when a case reports several outcomes (subtests, then its own result), the
# case keeps the worst one.
RANK = {"skip": 0, "pass": 1, "fail": 2, "error": 3}


class RecordingResult(unittest.TestResult):
    """A test result that writes each case's outcome to a JSON-lines file as it ends."""

    def __init__(self, output):
        super().__init__()
        self.output = output
        self.outcomes = {}
        self.details = {}
        self.case_count = 0

    def write(self, record):
        self.output.write(json.dumps(record) + "\n")
        self.output.flush()

    def note(self, test, outcome, detail=""):
        case = test.id()
        previous = self.outcomes.get(case)
        if previous is None or RANK[outcome] > RANK[previous]:
            self.outcomes[case] = outcome
            self.details[case] = detail

    def format_error(self, test, err):
        return "".join(traceback.format_exception(*err))

    def startTest(self, test):
        super().startTest(test)
        self.write({"event": "start", "id": test.id()})

    def stopTest(self, test):
        super().stopTest(test)
        self.flush_case(test.id())

    def flush_case(self, case):
        outcome = self.outcomes.pop(case, None)
        if outcome is None:
            # A case that reported nothing (possible with a broken custom TestCase.run)
            # is not a pass.
            outcome, detail = "error", "the case reported no outcome"
        else:
            detail = self.details.pop(case)
        self.case_count += 1
        self.write({"event": "case", "id": case, "outcome": outcome, "detail": detail})

    def addSuccess(self, test):
        super().addSuccess(test)
        self.note(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.note(test, "fail", self.format_error(test, err))

    def addError(self, test, err):
        super().addError(test, err)
        self.note(test, "error", self.format_error(test, err))
        self.flush_outside_case(test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.note(test, "skip", reason)
        self.flush_outside_case(test)

    def flush_outside_case(self, test):
        # Failures of setUpClass, setUpModule and their tear-downs, and skips of a whole
        # class, arrive with a placeholder object instead of a case, outside
        # startTest/stopTest, so nothing else writes them.
        if not isinstance(test, unittest.TestCase):
            self.flush_case(test.id())

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.note(test, "pass")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.note(test, "fail", "unexpected success of a case marked as an expected failure")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            return
        outcome = "fail" if issubclass(err[0], test.failureException) else "error"
        detail = f"subtest {subtest._subDescription()}\n" + self.format_error(test, err)
        self.note(test, outcome, detail)


def configure_support():
    """Set test.support up as regrtest does for a run without -u: no optional resources."""
    from test import support

    support.use_resources = []
    support.verbose = 0


def load_module(name):
    if not name.startswith("test."):
        name = "test." + name
    return importlib.import_module(name)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: case_runner.py MODULE OUTPUT [TIMEOUT]")
    module_name, output_path = sys.argv[1], sys.argv[2]
    if len(sys.argv) == 4:
        # The file stays open until the process exits, as faulthandler requires.
        stack_file = open(output_path + ".stack", "w")
        faulthandler.dump_traceback_later(float(sys.argv[3]), exit=True, file=stack_file)

    with open(output_path, "w", encoding="utf-8") as output:
        result = RecordingResult(output)
        configure_support()
        try:
            module = load_module(module_name)
            suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        except Exception:
            result.write({
                "event": "case",
                "id": f"import {module_name}",
                "outcome": "error",
                "detail": traceback.format_exc(),
            })
            result.write({"event": "done", "cases": 1})
            return
        suite.run(result)
        result.write({"event": "done", "cases": result.case_count})


if __name__ == "__main__":
    main()
