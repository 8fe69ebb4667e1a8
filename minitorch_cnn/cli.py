"""What the commands share about their options: range checks done before any work, and which
options the user actually gave (so that ``train --resume`` keeps the run's own for the rest).

A range is ``(low, high, low_open, high_open)``; ``None`` leaves a side unbounded. A value out
of range (NaN and infinities included) is a ValueError naming the option, the range and the
value, which the commands print as one ``error:`` line.
"""
import argparse
import math


def _interval(low, high, low_open, high_open):
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    if high is None:
        return f"> {low}" if low_open else f">= {low}"
    if low is None:
        return f"< {high}" if high_open else f"<= {high}"
    return f"in {left}{low}, {high}{right}"


def check_ranges(args, ranges):
    """Raise a ValueError for the first option of ``ranges`` ({dest: range}) whose value in the
    namespace ``args`` is out of its range; None values (an option left unset) pass."""
    for dest, (low, high, low_open, high_open) in ranges.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        bad = isinstance(value, float) and not math.isfinite(value)
        bad = bad or (low is not None and (value <= low if low_open else value < low))
        bad = bad or (high is not None and (value >= high if high_open else value > high))
        if bad:
            option = "--" + dest.replace("_", "-")
            raise ValueError(f"{option} must be {_interval(low, high, low_open, high_open)}, "
                             f"got {value}")


def at_least(low):
    return (low, None, False, False)


def positive():
    return (0, None, True, False)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` that shows each option's default, leaving out the empty ones (None, a flag's
    False) that say nothing."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def given_options(parser, argv):
    """The destinations of the options that ``argv`` sets explicitly (``--epochs 3`` gives
    ``{"epochs"}``): argparse fills in a default only where the namespace lacks the attribute,
    so parsing into a namespace that holds a marker everywhere leaves the marker on the rest.
    ``parser`` must accept an empty command line (it is asked for its destinations so)."""
    unset = object()
    marked = argparse.Namespace(**{dest: unset for dest in vars(parser.parse_args([]))})
    return {dest for dest, value in vars(parser.parse_args(argv, marked)).items()
            if value is not unset}
