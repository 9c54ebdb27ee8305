"""The same design-based estimators on several engines: memory, DuckDB and Spark (issue 15).

Why SQL generated from one description, not Ibis
------------------------------------------------
The estimators that scale reduce to a handful of grouped sums (rows -> sampling units -> strata,
:mod:`.sql`). Written once as plain SQL text, they run unchanged on DuckDB and Spark SQL: both
speak the CTE/``GROUP BY``/``JOIN USING`` subset used, and an engine only supplies identifier
quoting. We chose that over Ibis because (1) the agreement to 1e-9 with the memory engine depends
on *how* sums are formed (two-pass centred sums of squares, literals cast exactly to DOUBLE),
which generated SQL makes explicit and reviewable while an expression compiler may rewrite it;
(2) Ibis would add a large dependency tree (and version coupling to both DuckDB and PySpark) for
queries we can read in a few lines; (3) the same text can be printed, audited and re-run by hand
in ``duckdb`` or ``spark-sql``, which matters for a pre-registered analysis. The small
per-stratum tables the SQL returns are finished in NumPy (:mod:`.variance`) with the rules of
:mod:`fibrosurvey.stats.design_stages`.

``memory`` is the reference (:class:`fibrosurvey.stats.survey_design.SurveyDesign`); ``duckdb``
runs embedded and out of core over Parquet; ``spark`` runs in local mode or on a cluster
(``master="spark://host:7077"``).
"""

from fibrosurvey.engines.estimate import ENGINES, estimate, read_parquet_source, sql_estimates
from fibrosurvey.engines.spec import DesignColumns, Estimand

__all__ = [
    "ENGINES",
    "DesignColumns",
    "Estimand",
    "estimate",
    "read_parquet_source",
    "sql_estimates",
]
