"""sampling_params: the QuaDMix parameter table, from the source named by
vars.quadmix.params_source (file | vars | search); see docs/SAMPLING.md."""
from quadmix_wh.sampling.params import load_rows, to_arrow


def model(ctx):
    settings = ctx.var("quadmix", {}) or {}
    rows = load_rows(settings, ctx.project.root, ctx.con)
    return to_arrow(rows, settings["criteria"])
