"""The ``conner`` command line: ``conner --help`` (or ``python -m conner --help``).

Importing this package registers every command on :data:`app`; nothing
else in ``conner`` imports it.
"""

# isort: skip_file
from .app import app, bench_app

# Each module registers its command when imported, in the order that
# ``conner --help`` lists them: a workflow's order.
from . import (  # noqa: E402, F401
    check,
    export_encoder,
    convert,
    import_release,
    weak_tag,
    gold_spans,
    pair_targets,
    translate,
    collect_pairs,
    train,
    evaluate,
    tag,
    report,
    model_card,
    package_check,
    seed_grid,
    paper_table,
    plots,
    case_study,
    results_page,
    bench_inference,
    bench_int8,
    bench_load,
    bench_shards,
    bench_speed,
    bench_step,
    bench_translation,
)

__all__ = ["app", "bench_app"]
