"""``python -m minitorch_cnn.exercises init DIR`` / ``check DIR [NAME]``."""
import argparse
import sys

from . import EXERCISES, check, init


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m minitorch_cnn.exercises",
        description="Backpropagation exercises with an automatic checker.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="copy the exercise files into DIR")
    p_init.add_argument("dir")
    p_init.add_argument("--overwrite", action="store_true",
                        help="replace exercise files that already exist")
    p_check = sub.add_parser("check", help="grade the exercises in DIR")
    p_check.add_argument("dir")
    p_check.add_argument("name", nargs="?", help="one exercise: " +
                         ", ".join(ex.name for ex in EXERCISES))
    args = parser.parse_args(argv)

    if args.command == "init":
        written = init(args.dir, overwrite=args.overwrite)
        kept = len(EXERCISES) - len(written)
        print(f"wrote {len(written)} exercise file(s) to {args.dir}"
              + (f" ({kept} existing kept; --overwrite replaces them)" if kept else ""))
        print(f"next: edit {EXERCISES[0].filename}, then "
              f"python -m minitorch_cnn.exercises check {args.dir} {EXERCISES[0].name}")
        return 0
    try:
        report = check(args.dir, args.name)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok = all(isinstance(rs, list) and all(r.status == "PASS" for r in rs)
             for rs in report.values())
    return 0 if ok and report else 1


if __name__ == "__main__":
    sys.exit(main())
