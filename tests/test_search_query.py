"""The ``q`` of job search and statistics (issue 9): a real parser, one meaning in memory, SQLite and PostgreSQL.

Every value reaches SQL as a bound parameter; mistakes are ``InvalidRequest`` (SPEC R14)
naming the offset. The property tests render random condition trees to ``q`` text, parse
them back, and check that memory, SQLite and PostgreSQL select the same jobs.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepchart.stores.query import (
    FIELDS,
    MAX_QUERY_LENGTH,
    And,
    Column,
    Compare,
    FieldType,
    InList,
    IsNull,
    Like,
    Not,
    Or,
    QueryError,
    field_named,
    matches,
    parse_query,
    to_sql,
)

pytest_plugins = ["pg_fixture"]

# -- parsing --------------------------------------------------------------------------------------


def test_workflow_manager_example_parses() -> None:
    node = parse_query("closed=0 AND assignedType='User'")
    assert isinstance(node, And)
    first, second = node.operands
    assert first == Compare(field_named("closed"), "=", 0)  # type: ignore[arg-type]
    assert second == Compare(field_named("assignedType"), "=", "User")  # type: ignore[arg-type]


def test_precedence_not_and_or_and_parentheses() -> None:
    node = parse_query("NOT closed = 1 OR jobName = 'a' AND priority = '1'")
    assert isinstance(node, Or)
    assert isinstance(node.operands[0], Not)
    assert isinstance(node.operands[1], And)
    grouped = parse_query("(closed = 1 OR jobName = 'a') AND priority = '1'")
    assert isinstance(grouped, And) and isinstance(grouped.operands[0], Or)


def test_keywords_and_fields_are_case_insensitive_and_quotes_double() -> None:
    node = parse_query("JOBNAME like 'it''s%' and OwnedBy is not null")
    assert node == And((Like(field_named("jobName"), "it's%"), IsNull(field_named("ownedBy"), True)))  # type: ignore[arg-type]


def test_in_lists_dates_and_not_forms() -> None:
    node = parse_query(
        "priority NOT IN ('1', '2') AND dueDate < DATE '2027-01-02' AND createdDate >= '2026-12-01T10:00:00Z'"
    )
    assert isinstance(node, And)
    assert node.operands[0] == InList(field_named("priority"), ("1", "2"), True)  # type: ignore[arg-type]
    assert node.operands[1] == Compare(field_named("dueDate"), "<", datetime(2027, 1, 2, tzinfo=UTC))  # type: ignore[arg-type]
    assert node.operands[2] == Compare(field_named("createdDate"), ">=", datetime(2026, 12, 1, 10, tzinfo=UTC))  # type: ignore[arg-type]


def test_blank_query_matches_everything() -> None:
    assert parse_query("   ") is None
    assert matches(None, {})


@pytest.mark.parametrize(
    ("q", "position", "words"),
    [
        ("closed=0; DROP TABLE jobs", 8, "unexpected character ';'"),
        ("jobName = 'a' -- comment", 14, "unexpected character '-'"),
        ("jobName = 'a' /* c */", 14, "unexpected character '/'"),
        ('jobName = "a"', 10, "unexpected character '\"'"),
        ("jobName = 'a", 10, "unterminated string"),
        ("secret = 1", 0, "unknown field 'secret'"),
        ("jobName = 'a' UNION SELECT * FROM jobs", 14, "AND, OR or the end"),
        ("closed = 2", 9, "wrong type for the flag field 'closed'"),
        ("percentComplete = 'x'", 18, "wrong type for the number field"),
        ("dueDate > 'tomorrow'", 10, "wrong type for the date field"),
        ("closed LIKE '1'", 0, "LIKE on the flag field"),
        ("jobName IN ()", 12, "a value"),
        ("(closed = 0", 11, "')' expected"),
        ("closed = 0)", 10, "AND, OR or the end"),
        ("jobName NOT = 'a'", 12, "IN or LIKE expected after NOT"),
        ("jobName IS 'a'", 11, "NULL expected"),
        ("dueDate > DATE '2026-02-30'", 15, "is not a date"),
        ("jobName", 7, "a comparison"),
        ("AND closed = 0", 0, "a field name expected"),
        ("closed = ²", 9, "unexpected character '²'"),
    ],
)
def test_mistakes_name_their_position(q: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(q)
    err = caught.value
    assert err.position == position, err.message
    assert words in err.message
    assert err.type == "InvalidRequest"
    assert err.body()["error"]["details"] == [f"q: position {position}"]


def test_huge_inputs_are_refused_by_bound() -> None:
    with pytest.raises(QueryError, match="longer than"):
        parse_query("closed = 0 OR " * (MAX_QUERY_LENGTH // 10))
    with pytest.raises(QueryError, match="nesting deeper"):
        parse_query("(" * 40 + "closed = 0" + ")" * 40)
    with pytest.raises(QueryError, match="nesting deeper"):
        parse_query("NOT " * 40 + "closed = 0")
    with pytest.raises(QueryError, match="a list longer"):
        parse_query("jobId IN (" + ",".join(f"'{i}'" for i in range(600)) + ")")
    with pytest.raises(QueryError, match="more than 200 conditions"):
        parse_query(" OR ".join(["closed=0"] * 201))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_a_query_error(text: str) -> None:
    try:
        parse_query(text)
    except QueryError as err:
        assert 0 <= err.position <= len(text)


# -- one meaning on every store -------------------------------------------------------------------

_TEXT_VALUES = ["a", "A", "b", "ab", "a_b", "a%b", "it's", "ä", "", "\\x"]
_STEP_FIELDS = [f for f in FIELDS if f.per_step]
_JOB_FIELDS = [f for f in FIELDS if not f.per_step]
_DATES = [datetime(2026, m, 1, tzinfo=UTC) for m in (1, 6, 12)]


def _value(ftype: FieldType) -> st.SearchStrategy[Any]:
    if ftype is FieldType.TEXT:
        return st.sampled_from(_TEXT_VALUES)
    if ftype is FieldType.NUMBER:
        return st.integers(0, 3)
    if ftype is FieldType.FLAG:
        return st.integers(0, 1)
    return st.sampled_from(_DATES)


def _render(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"
    return str(value)


@st.composite
def _tests(draw: st.DrawFn) -> str:
    f = draw(st.sampled_from(FIELDS))
    kind = draw(st.sampled_from(["cmp", "in", "like", "null"] if f.type is FieldType.TEXT else ["cmp", "in", "null"]))
    if kind == "cmp":
        op = draw(st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="]))
        return f"{f.name} {op} {_render(draw(_value(f.type)))}"
    if kind == "in":
        values = draw(st.lists(_value(f.type), min_size=1, max_size=3))
        return f"{f.name} {draw(st.sampled_from(['', 'NOT ']))}IN ({', '.join(map(_render, values))})"
    if kind == "like":
        pattern = draw(st.text(st.sampled_from("aAb%_'\\ä"), max_size=4))
        return f"{f.name} {draw(st.sampled_from(['', 'NOT ']))}LIKE {_render(pattern)}"
    return f"{f.name} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"


_queries = st.recursive(
    _tests(),
    lambda inner: st.one_of(
        inner.map(lambda q: f"NOT ({q})"),
        st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
    ),
    max_leaves=6,
)


@st.composite
def _jobs(draw: st.DrawFn) -> list[dict[str, Any]]:
    jobs = []
    for i in range(draw(st.integers(1, 6))):
        job: dict[str, Any] = {}
        for f in _JOB_FIELDS:
            job[f.name] = draw(st.none() | _value(f.type))
        job["jobId"] = f"J{i}"
        step = st.fixed_dictionaries({f.name: st.none() | _value(f.type) for f in _STEP_FIELDS})
        steps = draw(st.lists(step, max_size=2))
        for f in _STEP_FIELDS:
            job[f.name] = [s[f.name] for s in steps]
        jobs.append(job)
    return jobs


def _column_name(field_name: str) -> str:
    return "c_" + field_name.lower()


def _encode(value: Any) -> Any:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def _columns(prefix: str) -> dict[str, Column]:
    return {
        f.name: Column(f"{'s' if f.per_step else prefix}.{_column_name(f.name)}", _encode) for f in FIELDS
    }


_STEP_EXISTS = "EXISTS (SELECT 1 FROM steps s WHERE s.job = j.c_jobid AND {})"


def _sql_type(ftype: FieldType) -> str:
    return "INTEGER" if ftype in (FieldType.NUMBER, FieldType.FLAG) else "TEXT"


def _load(execute: Any, jobs: list[dict[str, Any]], mark: str) -> None:
    execute("CREATE TABLE jobs (" + ", ".join(f"{_column_name(f.name)} {_sql_type(f.type)}" for f in _JOB_FIELDS) + ")")
    execute("CREATE TABLE steps (job TEXT, " + ", ".join(f"{_column_name(f.name)} TEXT" for f in _STEP_FIELDS) + ")")
    for job in jobs:
        names = [f.name for f in _JOB_FIELDS]
        execute(
            f"INSERT INTO jobs VALUES ({', '.join([mark] * len(names))})", [_encode(job[n]) for n in names]
        )
        for k in range(len(job[_STEP_FIELDS[0].name])):
            execute(
                f"INSERT INTO steps VALUES ({', '.join([mark] * (1 + len(_STEP_FIELDS)))})",
                [job["jobId"], *(job[f.name][k] for f in _STEP_FIELDS)],
            )


def _expected(q: str, jobs: list[dict[str, Any]]) -> list[str]:
    node = parse_query(q)
    return sorted(j["jobId"] for j in jobs if matches(node, j))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_queries, _jobs())
def test_memory_and_sqlite_select_the_same_jobs(q: str, jobs: list[dict[str, Any]]) -> None:
    db = sqlite3.connect(":memory:")
    _load(db.execute, jobs, "?")
    cond = to_sql(parse_query(q), _columns("j"), dialect="sqlite", step_exists=_STEP_EXISTS)
    assert "'" not in cond.text.replace("ESCAPE '\\'", ""), cond.text  # no literal reached the SQL text
    rows = db.execute(f"SELECT j.c_jobid FROM jobs j WHERE {cond.text}", cond.params).fetchall()
    assert sorted(r[0] for r in rows) == _expected(q, jobs), (q, cond)


@pytest.fixture
def pg_connection(pg_url: str) -> Any:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(q=_queries, jobs=_jobs())
def test_memory_and_postgresql_select_the_same_jobs(pg_connection: Any, q: str, jobs: list[dict[str, Any]]) -> None:
    conn = pg_connection
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        _load(cur.execute, jobs, "%s")
        cond = to_sql(parse_query(q), _columns("j"), dialect="postgresql", step_exists=_STEP_EXISTS)
        cur.execute(f"SELECT j.c_jobid FROM jobs j WHERE {cond.text}", cond.params)
        assert sorted(r[0] for r in cur.fetchall()) == _expected(q, jobs), (q, cond)


def test_like_is_case_insensitive_for_ascii_only_everywhere() -> None:
    job = {"jobName": "Ärger Alpha", "jobId": "J1"}
    assert matches(parse_query("jobName LIKE '%alpha'"), job)
    assert not matches(parse_query("jobName LIKE 'ärger%'"), job)
    assert matches(parse_query("jobName LIKE 'Ärger%'"), job)


def test_three_valued_logic_missing_values_match_neither_side() -> None:
    job = {"jobId": "J1", "priority": None}
    assert not matches(parse_query("priority = '1'"), job)
    assert not matches(parse_query("NOT priority = '1'"), job)
    assert matches(parse_query("priority IS NULL"), job)
