"""``python -m benchmarks [--group G] [--filter TEXT] [--repeat N] [--device cpu|cuda]
[--threads N] [--no-torch] [--rss | --no-rss] [--json FILE] [--list]`` from the repository
root."""
import argparse

from .harness import all_cases, run, write_json


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--group", action="append", help="only these groups (conv, pool, ...)")
    parser.add_argument("--filter", help="only cases whose name contains this text")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of both sides (mt.set_num_threads and "
                             "torch.set_num_threads; default: each side's own default)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch side")
    rss = parser.add_mutually_exclusive_group()
    rss.add_argument("--rss", action="store_true", default=None,
                     help="peak RSS of both sides for every case (default: the big training "
                          "steps marked for it), each in a fresh process")
    rss.add_argument("--no-rss", dest="rss", action="store_false", help="no peak RSS")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    cases = [c for c in all_cases()
             if (not args.group or c.group in args.group)
             and (not args.filter or args.filter.lower() in c.name.lower())]
    if args.list:
        for c in cases:
            print(f"{c.group:<8} {c.name}")
        return
    results = run(cases, args.repeat, args.device, not args.no_torch, args.threads, args.rss)
    if args.json:
        write_json(results, args.json)


if __name__ == "__main__":
    main()
