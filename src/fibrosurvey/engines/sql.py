"""SQL generated from one description (:mod:`.spec`) for every SQL engine (DuckDB, Spark SQL).

Design-based means, totals and proportions reduce to grouped sums (Taylor linearisation, R
``svyrecvar``). For an estimand with per-row influence ``z_i`` the variance needs, at each
sampling stage, the unit totals ``t_hj = sum_{i in unit j of stratum h} z_i`` and, per stratum,
their sum and their centred sum of squares. For a mean, ``z_i = w_i (y_i - ybar) / W`` is linear
in ``w y`` and ``w``, so ``t_hj = (A_hj - ybar B_hj) / W`` with ``A = sum w y``, ``B = sum w``
over the unit's observed rows: one pass groups the rows into units, the units into strata, and
only the per-stratum table (a few rows per stratum) leaves the engine. The centred sum of squares
is computed from the deviations to the stratum mean (two passes over the units, never
``sum t^2 - (sum t)^2 / n``, whose cancellation would cost the 1e-9 agreement).

Only the dialect-neutral subset of SQL is used (CTEs, ``GROUP BY``, ``JOIN ... USING``,
``CASE``, ``CAST(... AS DOUBLE)``, ``isnan``), so DuckDB and Spark run the same text; an engine
supplies only how to quote a column name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fibrosurvey.engines.spec import DesignColumns, Estimand

__all__ = ["DATA_VIEW", "SqlPlan", "sql_number"]

DATA_VIEW = "fibrosurvey_data"
Quote = Callable[[str], str]


def sql_number(value: float) -> str:
    # A text literal cast to DOUBLE: exact (repr round-trips) and typed the same on both engines.
    return f"CAST('{value!r}' AS DOUBLE)"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class SqlPlan:
    """The queries for one design and a list of estimands, for an engine's quoting rule."""

    design: DesignColumns
    estimands: Sequence[Estimand]
    quote: Quote
    extra_columns: Sequence[str] = ()  # numeric columns besides the estimands' (e.g. GLM X)

    @property
    def outcome_keys(self) -> list[tuple[str, tuple[str, float] | None]]:
        """(column, domain) read, aliased ``_y<j>`` in this order (NaN and outside read NULL)."""
        return list(
            dict.fromkeys(
                [*(e.key for e in self.estimands), *((c, None) for c in self.extra_columns)]
            )
        )

    @property
    def outcomes(self) -> list[str]:
        return [column for column, _ in self.outcome_keys]

    def outcome_index(self, estimand: Estimand) -> int:
        return self.outcome_keys.index(estimand.key)

    @property
    def n_stages(self) -> int:
        return max(len(self.design.psu), 1)

    @property
    def used_stages(self) -> int:
        """Stages that contribute (R: the first alone without fpc; stages past the fpcs add 0)."""
        return len(self.design.fpc) or 1

    def stratum_keys(self, stage: int) -> list[str]:
        """Aliases naming a stratum of ``stage``: every unit above it, then its own stratum."""
        keys = ["_root"]
        for s in range(stage + 1):
            if s < len(self.design.strata):
                keys.append(f"_s{s}")
            if s < stage:
                keys.append(f"_p{s}")
        return keys

    def parent_keys(self, stage: int) -> list[str]:
        """Aliases naming the unit of the stage above (the root for the first stage)."""
        return ["_root"] if stage == 0 else [*self.stratum_keys(stage - 1), f"_p{stage - 1}"]

    def base_sql(self) -> str:
        """The rows used, with the design and numeric columns renamed (``_w``, ``_y<j>``...)."""
        return self._base()

    def _base(self) -> str:
        q, d = self.quote, self.design
        items = ["0 AS _root", f"CAST({q(d.weights)} AS DOUBLE) AS _w"]
        items += [f"{q(c)} AS _s{i}" for i, c in enumerate(d.strata)]
        items += [f"{q(c)} AS _p{i}" for i, c in enumerate(d.psu)]
        items += [f"CAST({q(c)} AS DOUBLE) AS _f{i}" for i, c in enumerate(d.fpc)]
        for j, (column, domain) in enumerate(self.outcome_keys):
            value = f"CAST({q(column)} AS DOUBLE)"
            inside = "" if domain is None else (
                f"CAST({q(domain[0])} AS DOUBLE) = {sql_number(domain[1])} AND "
            )  # fmt: skip
            items.append(
                f"CASE WHEN {inside}NOT isnan({value}) THEN {value} ELSE NULL END AS _y{j}"
            )
        where = " AND ".join(f"CAST({q(c)} AS STRING) = {_text(v)}" for c, v in d.where)
        return f"SELECT {', '.join(items)} FROM {DATA_VIEW}" + (f" WHERE {where}" if where else "")

    def summary_sql(self) -> str:
        """One row: counts that validate the input and the sums that give the estimates."""
        d = self.design
        infinite = sql_number(float("inf"))
        items = [
            "count(*) AS n_rows",
            "sum(CASE WHEN _w IS NULL OR isnan(_w) OR _w <= 0 THEN 1 ELSE 0 END) AS bad_weights",
        ]
        for i in range(len(d.strata)):
            items.append(f"sum(CASE WHEN _s{i} IS NULL THEN 1 ELSE 0 END) AS missing_s{i}")
        for i in range(len(d.psu)):
            items.append(f"sum(CASE WHEN _p{i} IS NULL THEN 1 ELSE 0 END) AS missing_p{i}")
        for i in range(len(d.fpc)):
            items.append(
                f"sum(CASE WHEN _f{i} IS NULL OR isnan(_f{i}) OR _f{i} <= 0 THEN 1 ELSE 0 END)"
                f" AS bad_f{i}"
            )
        for j in range(len(self.outcomes)):
            seen = f"_y{j} IS NOT NULL"
            items += [
                f"sum(CASE WHEN {seen} THEN 1 ELSE 0 END) AS seen_{j}",
                f"sum(CASE WHEN {seen} THEN _w * _y{j} ELSE 0.0 END) AS a_{j}",
                f"sum(CASE WHEN {seen} THEN _w ELSE 0.0 END) AS b_{j}",
                f"sum(CASE WHEN {seen} AND _y{j} <> 0 AND _y{j} <> 1 THEN 1 ELSE 0 END)"
                f" AS nonbinary_{j}",
                f"sum(CASE WHEN abs(_y{j}) = {infinite} THEN 1 ELSE 0 END) AS infinite_{j}",
            ]
        return f"WITH _base AS ({self._base()}) SELECT {', '.join(items)} FROM _base"

    def stage_sql(self, stage: int, means: Sequence[float], weight_totals: Sequence[float]) -> str:
        """Per stratum of ``stage``: units, fpc range, and per estimand the sum and centred SS.

        ``means[k]``/``weight_totals[k]`` are the estimate and observed weight total of
        estimand ``k`` (ignored for totals), from :meth:`summary_sql`.
        """
        sums = []
        for j in range(len(self.outcomes)):
            seen = f"_y{j} IS NOT NULL"
            sums += [
                (f"CASE WHEN {seen} THEN _w * _y{j} ELSE 0.0 END", f"a_{j}"),
                (f"CASE WHEN {seen} THEN _w ELSE 0.0 END", f"b_{j}"),
            ]
        totals = []
        for k, estimand in enumerate(self.estimands):
            j = self.outcome_index(estimand)
            if estimand.kind == "total":
                totals.append(f"a_{j}")
            else:
                mean, total = sql_number(means[k]), sql_number(weight_totals[k])
                totals.append(f"(a_{j} - {mean} * b_{j}) / {total}")
        return self.strata_sql(stage, sums, totals, [(k, k) for k in range(len(totals))])

    def strata_sql(
        self,
        stage: int,
        row_sums: Sequence[tuple[str, str]],
        unit_totals: Sequence[str],
        pairs: Sequence[tuple[int, int]],
    ) -> str:
        """Per stratum of ``stage``: ``n_h``, fpc range, ``s_k`` and centred ``ss_a_b``.

        ``row_sums`` are ``(row expression, name)`` summed over each unit; ``unit_totals[k]``
        is an expression of those names giving the unit total ``t_k`` of linearised total
        ``k``; ``pairs`` the ``(a, b)`` whose centred cross-products are wanted.
        """
        keys = self.stratum_keys(stage)
        key_list = ", ".join(keys)
        fpc = f"_f{stage}" if stage < len(self.design.fpc) else "CAST(NULL AS DOUBLE)"
        if stage < len(self.design.psu):
            unit_items = [
                key_list, f"min({fpc}) AS fmin", f"max({fpc}) AS fmax",
                *(f"sum({expr}) AS {name}" for expr, name in row_sums),
            ]  # fmt: skip
            units = f"SELECT {', '.join(unit_items)} FROM _base GROUP BY {key_list}, _p{stage}"
        else:  # every row is its own unit
            unit_items = [
                key_list, f"{fpc} AS fmin", f"{fpc} AS fmax",
                *(f"{expr} AS {name}" for expr, name in row_sums),
            ]  # fmt: skip
            units = f"SELECT {', '.join(unit_items)} FROM _base"
        totals = ", ".join(f"{expr} AS t_{k}" for k, expr in enumerate(unit_totals))
        ks = range(len(unit_totals))
        strata_items = [
            key_list, "count(*) AS n_h", "min(fmin) AS fmin", "max(fmax) AS fmax",
            *(f"sum(t_{k}) AS s_{k}" for k in ks), *(f"avg(t_{k}) AS m_{k}" for k in ks),
        ]  # fmt: skip
        deviations = ", ".join(
            f"sum((t_{a} - m_{a}) * (t_{b} - m_{b})) AS ss_{a}_{b}" for a, b in pairs
        )
        result = ", ".join(
            [key_list, "n_h", "fmin", "fmax", *(f"s_{k}" for k in ks),
             *(f"ss_{a}_{b}" for a, b in pairs)]
        )  # fmt: skip
        return (
            f"WITH _base AS ({self._base()}), "
            f"_units AS ({units}), "
            f"_t AS (SELECT {key_list}, fmin, fmax, {totals} FROM _units), "
            f"_strata AS (SELECT {', '.join(strata_items)} FROM _t GROUP BY {key_list}), "
            f"_dev AS (SELECT {key_list}, {deviations} FROM _t JOIN _strata USING ({key_list})"
            f" GROUP BY {key_list}) "
            f"SELECT {result} FROM _strata JOIN _dev USING ({key_list})"
        )
