{#- Held-out evaluation of the project's scorers (data/scorers/evaluation.json, written by
    scripts/train_scorers.py): (scorer, metric, value, baseline, n_heldout, detail, current).
    `current` is false when the declared checkpoint is not the one that was evaluated. -#}
{{ config(materialized='table') }}
SELECT * FROM {{ scorer_evaluation() }}
