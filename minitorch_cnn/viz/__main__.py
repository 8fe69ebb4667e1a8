"""``python -m minitorch_cnn.viz ...``."""
from . import main

raise SystemExit(main())
