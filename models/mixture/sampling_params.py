"""sampling_params: the QuaDMix parameter table, from the source named by
vars.quadmix.params_source (file | vars | search); see docs/SAMPLING.md."""
from quadmix_wh.sampling.params import load_rows, to_arrow

# search_best_params is written by `quadmix-wh search`, outside the DAG: its content is part of
# this model's fingerprint (as are the vars it reads), so a new search rebuilds the mixture.
config = {"reads": ["search_best_params"]}


def model(ctx):
    settings = ctx.var("quadmix", {}) or {}
    rows = load_rows(settings, ctx.project.root, ctx.con)
    return to_arrow(rows, settings["criteria"])
