"""Source configuration as data: one YAML file per submission source.

Every privacy decision the pipeline takes (which column is dropped, which is
generalized and how far, which k and l must hold, how small a published cell may
be, how long raw data is kept) is read from these files, so that a reviewer can
check the protection of a source by reading one file instead of the code.

A bad file fails early with a message naming the file, the field and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from include.core.hierarchy_file import (
    HierarchyFileError,
    ValueMappingTable,
    read_value_mapping,
)
from include.core.metric_spec import MetricName, MetricSpec

SOURCES_DIR = Path(__file__).resolve().parents[2] / "sources"


class ConfigError(ValueError):
    """A source configuration file is missing, unreadable or invalid."""


class Role(StrEnum):
    """What a field is, from a disclosure-control point of view."""

    DIRECT_IDENTIFIER = "direct_identifier"  # never leaves the raw zone (dropped or pseudonymized)
    QUASI_IDENTIFIER = "quasi_identifier"  # generalized until k-anonymous
    SENSITIVE = "sensitive"  # kept, but must be l-diverse within each class
    FREE_TEXT = "free_text"  # PII-scrubbed before anything else reads it
    OTHER = "other"  # technical or harmless (ids, timestamps of processing)


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CATEGORY = "category"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumericBands(_Strict):
    """Numbers (ages) → bands of growing width → '*'."""

    kind: Literal["numeric_bands"]
    widths: list[Annotated[int, Field(gt=0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _widths_nest(self) -> NumericBands:
        for finer, coarser in zip(self.widths, self.widths[1:], strict=False):
            if coarser <= finer or coarser % finer:
                raise ValueError(
                    f"band widths must grow and each must divide the next, got {self.widths}"
                )
        return self


class PostcodeFr(_Strict):
    """French postcode → département → région → '*'."""

    kind: Literal["postcode_fr"]


class CommuneFr(_Strict):
    """French commune → département → région → '*', placed by the postcode of the same record.

    Commune names repeat across départements (four "Saint-Denis"), so the commune's
    département is its record's postcode's: ingest quarantines a record whose commune
    is neither served by that postcode nor in its département (`inconsistent:<field>`).
    """

    kind: Literal["commune_fr"]
    postcode_field: str


class DateLevels(_Strict):
    """Date or timestamp → month → quarter → year → '*' (any prefix of that chain)."""

    kind: Literal["date"]
    levels: list[Literal["month", "quarter", "year"]] = Field(
        default_factory=lambda: ["month", "quarter", "year"], min_length=1
    )

    @model_validator(mode="after")
    def _levels_ordered(self) -> DateLevels:
        order = ["month", "quarter", "year"]
        if [lv for lv in order if lv in self.levels] != self.levels:
            raise ValueError(f"date levels must follow month → quarter → year, got {self.levels}")
        return self


# A value's French name as analysts and the public read it: one line, no padding.
DisplayLabel = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]


def _check_labels(codes: Iterable[str], labels: Mapping[str, str], what: str) -> None:
    """Every labelled code exists, and no two codes read the same once labelled.

    Two codes shown under one label would be merged by every chart that groups by the
    label, silently adding up counts that the published data keeps apart.
    """
    codes = list(dict.fromkeys(codes))
    unknown = sorted(set(labels) - set(codes))
    if unknown:
        raise ValueError(f"labels name {unknown}, which are not {what} {codes}")
    shown: dict[str, str] = {}
    for code in codes:
        text = labels.get(code, code)
        if text in shown:
            raise ValueError(
                f"'{shown[text]}' and '{code}' would both read '{text}': give them distinct labels"
            )
        shown[text] = code


class Grouping(_Strict):
    """Categories → named groups (one mapping per level) → '*'.

    `labels`, optional, gives the groups their French names, one mapping per level
    (a level without one, or a group left out, shows its code).
    """

    kind: Literal["grouping"]
    levels: list[dict[str, str]] = Field(min_length=1)
    labels: list[dict[str, DisplayLabel]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _levels_nest(self) -> Grouping:
        for depth, (finer, coarser) in enumerate(zip(self.levels, self.levels[1:], strict=False)):
            missing = sorted(set(finer.values()) - set(coarser))
            if missing:
                raise ValueError(
                    f"level {depth + 1} does not map the groups {missing} of level {depth}"
                )
        if len(self.labels) > len(self.levels):
            raise ValueError(
                f"labels are given for {len(self.labels)} levels, the grouping has"
                f" {len(self.levels)}"
            )
        for depth, (level, labels) in enumerate(zip(self.levels, self.labels, strict=False)):
            _check_labels(level.values(), labels, f"groups of level {depth + 1}")
        return self


class Suppress(_Strict):
    """Value → '*' in one step (gender, small categorical fields)."""

    kind: Literal["suppress"]


class HierarchyFile(_Strict):
    """Values → the levels a value-mapping file gives each (ARX's format) → '*'.

    `path` is relative to the folder of the source file (`sources/`) unless absolute;
    one row per value, `value;level1;level2;…;*`, no header (the rules, and how a number
    in the data is matched, are in `include/core/hierarchy_file.py`). The file
    is read and checked to be a tree when the config is loaded, so a missing file or a
    value with two parents stops the load with the file and the line; the levels are
    named "1", "2", … as a grouping's.
    """

    kind: Literal["file"]
    path: str = Field(min_length=1)
    separator: str = ";"
    _table: ValueMappingTable = PrivateAttr()

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> HierarchyFile:
        base = (info.context or {}).get("sources_dir", SOURCES_DIR)
        path = Path(self.path)
        try:
            self._table = read_value_mapping(
                path if path.is_absolute() else Path(base) / path, self.separator
            )
        except HierarchyFileError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def table(self) -> ValueMappingTable:
        """The file's validated rows: each value's labels at levels 1 .. top - 1."""
        return self._table


Hierarchy = Annotated[
    NumericBands | PostcodeFr | CommuneFr | DateLevels | Grouping | Suppress | HierarchyFile,
    Field(discriminator="kind"),
]


class FieldSpec(_Strict):
    """One column of a submission, with its type and its disclosure-control role."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType
    role: Role
    required: bool = True
    description: str = ""
    allowed: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, gt=0)
    # French names of a category's coded values (code → label), for dashboards and release
    # docs; the data keeps the codes, which stay stable when a wording changes.
    labels: dict[str, DisplayLabel] = Field(default_factory=dict)
    hierarchy: Hierarchy | None = None
    pseudonymize: bool = False
    # How a pseudonymized value is normalized first, so that one person's spellings of an
    # e-mail or a phone number yield one pseudonym (include/anonymization/pseudonyms.py).
    normalize: Literal["email", "phone", "text"] = "text"
    # A closed vocabulary a string must belong to (include/core/communes_fr.py), or the shape it
    # must have (a regular expression matched against the whole value): what keeps a
    # published string field from carrying whatever a person typed in it.
    vocabulary: Literal["communes_fr"] | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> FieldSpec:
        if self.type is FieldType.CATEGORY and not self.allowed:
            raise ValueError("a category field needs its 'allowed' values")
        if self.allowed and self.type is not FieldType.CATEGORY:
            raise ValueError("'allowed' only applies to category fields")
        if self.labels:
            if self.type is not FieldType.CATEGORY:
                raise ValueError("'labels' only applies to category fields")
            _check_labels(self.allowed or [], self.labels, "allowed values")
        if self.role is Role.QUASI_IDENTIFIER and self.hierarchy is None:
            raise ValueError("a quasi-identifier needs a generalization 'hierarchy'")
        if self.hierarchy is not None and self.role is not Role.QUASI_IDENTIFIER:
            raise ValueError("only quasi-identifiers are generalized; remove 'hierarchy'")
        if self.pseudonymize and self.role is not Role.DIRECT_IDENTIFIER:
            raise ValueError("only direct identifiers are pseudonymized")
        if self.normalize != "text" and not self.pseudonymize:
            raise ValueError("'normalize' only applies to pseudonymized fields")
        if self.role is Role.FREE_TEXT and self.type is not FieldType.STRING:
            raise ValueError("a free-text field must be of type string")
        if (self.vocabulary or self.pattern) and self.type is not FieldType.STRING:
            raise ValueError("'vocabulary' and 'pattern' only apply to string fields")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"'pattern' is not a regular expression: {exc}") from None
        if isinstance(self.hierarchy, NumericBands) and self.type not in (
            FieldType.INTEGER,
            FieldType.NUMBER,
        ):
            raise ValueError("numeric_bands needs an integer or number field")
        if isinstance(self.hierarchy, DateLevels) and self.type not in (
            FieldType.DATE,
            FieldType.DATETIME,
        ):
            raise ValueError("a date hierarchy needs a date or datetime field")
        if isinstance(self.hierarchy, CommuneFr) and self.vocabulary != "communes_fr":
            raise ValueError("a commune_fr hierarchy needs 'vocabulary: communes_fr'")
        if isinstance(self.hierarchy, Grouping):
            if not self.allowed:
                raise ValueError("a grouping hierarchy needs a category field")
            unmapped = sorted(set(self.allowed) - set(self.hierarchy.levels[0]))
            if unmapped:
                raise ValueError(f"grouping does not map the allowed values {unmapped}")
        if isinstance(self.hierarchy, HierarchyFile) and self.allowed:
            unmapped = sorted(set(self.allowed) - set(self.hierarchy.table.paths))
            if unmapped:
                raise ValueError(
                    f"hierarchy file {self.hierarchy.table.source} has no row for the allowed "
                    f"values {unmapped}"
                )
        return self

    def labels_at(self, level: int) -> dict[str, str]:
        """French labels of the values at a hierarchy level (0 = as collected): code → label.

        Only category fields and their groups have labels; any other level has none.
        """
        if level == 0:
            return dict(self.labels)
        if isinstance(self.hierarchy, Grouping) and level <= len(self.hierarchy.labels):
            return dict(self.hierarchy.labels[level - 1])
        return {}


class Dimension(_Strict):
    """One axis of an aggregate: a field, optionally coarsened to a level of its hierarchy.

    Written `field` or `field:level` in YAML; levels are `month|quarter|year` for dates,
    `departement|region` for postcodes, a band width (`10`) for numeric bands and the
    1-based level number for groupings and hierarchy files.
    """

    field: str
    level: str | None = None

    @property
    def column(self) -> str:
        """The column name the aggregate publishes: `postcode_departement`, `age_20`."""
        return f"{self.field}_{self.level}" if self.level else self.field


def _parse_dimension(value: Any) -> Any:
    if isinstance(value, str):
        field_name, _, level = value.partition(":")
        return {"field": field_name, "level": level or None}
    return value


class Aggregate(_Strict):
    """A published statistic: counts of records by one or two dimensions."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    dimensions: list[Annotated[Dimension, BeforeValidator(_parse_dimension)]] = Field(
        min_length=1, max_length=2
    )


def hierarchy_level(spec: FieldSpec, level: str) -> int:
    """The hierarchy level index (1 = first coarsening) a dimension's level names."""
    hierarchy = spec.hierarchy
    names: list[str]
    if isinstance(hierarchy, DateLevels):
        names = list(hierarchy.levels)
    elif isinstance(hierarchy, PostcodeFr | CommuneFr):
        names = ["departement", "region"]
    elif isinstance(hierarchy, NumericBands):
        names = [str(width) for width in hierarchy.widths]
    elif isinstance(hierarchy, Grouping):
        names = [str(i + 1) for i in range(len(hierarchy.levels))]
    elif isinstance(hierarchy, HierarchyFile):
        names = [str(i + 1) for i in range(hierarchy.table.n_intermediate)]
    else:
        raise ValueError(f"field '{spec.name}' has no hierarchy level to aggregate on")
    if level not in names:
        raise ValueError(f"field '{spec.name}' has no level '{level}' (levels: {names})")
    return names.index(level) + 1


class LossMeasure(_Strict):
    """Which information loss the k-anonymity search minimizes (the release states it).

    `lm` (the default) charges each published cell the share of values its label
    covers and a suppressed record everything; `arx_loss` and `non_uniform_entropy`
    are ARX's Loss and non-uniform entropy, for results comparable with ARX's. The
    gs-factor (ARX's) weighs generalization against suppression: below 0.5
    suppression costs less, above it generalization does.
    (include/anonymization/information_loss.py)
    """

    name: MetricName = "lm"
    gs_factor: float = Field(default=0.5, ge=0, le=1)
    monotonic: bool = False

    @model_validator(mode="after")
    def _is_a_measure(self) -> LossMeasure:
        self.spec  # noqa: B018 - MetricSpec refuses parameters its measure does not have
        return self

    @property
    def spec(self) -> MetricSpec:
        return MetricSpec(self.name, self.gs_factor, self.monotonic)


class SuppressionDisclosure(_Strict):
    """Aggregates published with small-cell and complementary suppression (the default):
    cells below `min_cell_count` are hidden, and enough others that none can be derived
    (include/anonymization/cell_suppression.py)."""

    method: Literal["suppression"]


class CellKeyDisclosure(_Strict):
    """Aggregates published with the cell key method (include/anonymization/cell_key.py):
    every cell gets a noise of at most `max_noise`, derived from keys stored with its
    records, so the same cell reads the same in every table and every release and nothing
    is hidden. `variance` is the noise variance V of sdcTools' ptable; with `js`, no cell is
    ever published as 1..js.

    Refused here rather than by the solver, with the reason: settings whose ptable cannot
    exist, or would not be what the file says.
    """

    method: Literal["cell_key"]
    max_noise: int = Field(ge=1, le=20)  # the ptable solver was checked up to D = 20
    variance: float = Field(gt=0)
    js: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _ptable_exists(self) -> CellKeyDisclosure:
        if self.js and self.js >= self.max_noise:
            raise ValueError(
                f"js ({self.js}) must be below max_noise ({self.max_noise}): a count of js + 1 "
                "would have no value below it to move to (0 is more than max_noise away, 1..js "
                "are barred), so without bias it could only be published exactly"
            )
        if self.js:
            # A count i in 1..js must move to 0 or above js with mean 0: variance >= i(js+1-i).
            floor = max(i * (self.js + 1 - i) for i in range(1, self.js + 1))
            if self.variance <= floor:
                raise ValueError(
                    f"variance must be above {floor} with js = {self.js}: a count between 1 "
                    f"and js must move to 0 or above js without bias, which takes at least "
                    f"that much; raise the variance or lower js"
                )
        widest = self.max_noise * (self.max_noise + 1) / 3
        if self.variance > widest:
            raise ValueError(
                f"variance {self.variance} is never reached with max_noise {self.max_noise}: "
                f"the widest noise (uniform on -{self.max_noise}..{self.max_noise}) has "
                f"variance {widest:g}; lower the variance or raise max_noise"
            )
        return self


Disclosure = Annotated[SuppressionDisclosure | CellKeyDisclosure, Field(discriminator="method")]


class SourceConfig(_Strict):
    """Everything the platform must know about one submission source."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    id_field: str
    fields: list[FieldSpec] = Field(min_length=1)
    k: int = Field(default=5, ge=2)
    l_diversity: int = Field(default=2, ge=1, alias="l")
    l_kind: Literal["distinct", "entropy"] = "distinct"
    max_suppression: float = Field(default=0.05, ge=0, le=0.5)
    # Left out of dumps when the default, so that suite fingerprints stay what they were.
    information_loss: LossMeasure = Field(
        default_factory=LossMeasure, exclude_if=lambda measure: measure == LossMeasure()
    )
    min_cell_count: int = Field(default=11, ge=1)
    # How aggregates are protected; suppression unless the file says otherwise. The default
    # is left out of dumps, so that the config fingerprint the committed expectation suites
    # were generated from stays what it was for every source that keeps suppression.
    disclosure: Disclosure = Field(
        default_factory=lambda: SuppressionDisclosure(method="suppression"),
        exclude_if=lambda disclosure: isinstance(disclosure, SuppressionDisclosure),
    )
    retention_days: int = Field(gt=0)
    publish_record_level: bool = False
    # The largest share of published records allowed to be alone in the record file on some
    # combination of up to 3 published columns (sample uniques, SUDA-style; see
    # `include.anonymization.attacker_view`): above it, the release is blocked. Unset: measured
    # and stated in every release, never blocking. Left out of dumps when unset, like
    # `disclosure`, so that suite fingerprints stay what they were.
    max_sample_unique_share: float | None = Field(
        default=None, ge=0, le=1, exclude_if=lambda share: share is None
    )
    aggregates: list[Aggregate] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _references_exist(self) -> SourceConfig:
        names = [f.name for f in self.fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"fields declared twice: {duplicates}")
        if self.id_field not in names:
            raise ValueError(f"id_field '{self.id_field}' is not one of the fields")
        by_name = {f.name: f for f in self.fields}
        for agg in self.aggregates:
            unknown = [d.field for d in agg.dimensions if d.field not in names]
            if unknown:
                raise ValueError(f"aggregate '{agg.name}' uses unknown fields {unknown}")
            for dim in agg.dimensions:
                spec = by_name[dim.field]
                if spec.role in (Role.DIRECT_IDENTIFIER, Role.FREE_TEXT):
                    raise ValueError(
                        f"aggregate '{agg.name}' cannot count by {spec.role.value} '{spec.name}'"
                    )
                if dim.level is not None:
                    try:
                        hierarchy_level(spec, dim.level)
                    except ValueError as exc:
                        raise ValueError(f"aggregate '{agg.name}': {exc}") from None
        for spec in self.fields:
            if isinstance(spec.hierarchy, CommuneFr):
                postcode = by_name.get(spec.hierarchy.postcode_field)
                if postcode is None or not isinstance(postcode.hierarchy, PostcodeFr):
                    raise ValueError(
                        f"field '{spec.name}': postcode_field "
                        f"'{spec.hierarchy.postcode_field}' must name a field with a "
                        "postcode_fr hierarchy"
                    )
        self._no_undeclared_geography_or_time()
        if self.l_diversity > 1 and not self.sensitive_fields:
            raise ValueError("l > 1 needs at least one field with role 'sensitive'")
        free_form = [
            spec.name
            for spec in self.fields
            if spec.type is FieldType.STRING
            and spec.role in (Role.OTHER, Role.SENSITIVE)
            and spec.vocabulary is None
            and spec.pattern is None
        ]
        if free_form:
            raise ValueError(
                f"string fields {free_form} would be published as typed: declare them "
                "free_text (scrubbed), a category, or give them a 'vocabulary' (communes_fr) "
                "or a 'pattern' their values must match"
            )
        return self

    def _no_undeclared_geography_or_time(self) -> None:
        """A published place or time must be a quasi-identifier with a hierarchy.

        An attacker groups a public file on whatever it holds: a commune published
        beside a postcode generalized to its département gives the département back,
        and more (issue #12 found k=1 that way while the manifest said k=5). So a
        published field that is a geography (a French postcode or commune) or a time
        (a date, a timestamp) and is not a declared quasi-identifier is refused, named
        with the quasi-identifier it would refine.
        """
        declared = [spec.name for spec in self.quasi_identifiers]
        for spec in self.fields:
            if spec.role not in (Role.OTHER, Role.SENSITIVE):
                continue
            if spec.vocabulary == "communes_fr" or isinstance(spec.hierarchy, PostcodeFr):
                what = "a geography (a French commune or postcode)"
            elif spec.type in (FieldType.DATE, FieldType.DATETIME):
                what = "a time (a date or timestamp)"
            else:
                continue
            beside = f" beside the quasi-identifiers {declared}" if declared else ""
            raise ValueError(
                f"field '{spec.name}' is {what} published{beside} with role "
                f"'{spec.role.value}': an attacker can group the public file on it. Declare "
                "it role quasi_identifier with a hierarchy (commune_fr, postcode_fr, date), "
                "or withhold it (role direct_identifier)"
            )

    def by_role(self, role: Role) -> list[FieldSpec]:
        return [f for f in self.fields if f.role is role]

    @property
    def quasi_identifiers(self) -> list[FieldSpec]:
        return self.by_role(Role.QUASI_IDENTIFIER)

    @property
    def sensitive_fields(self) -> list[FieldSpec]:
        return self.by_role(Role.SENSITIVE)

    @property
    def free_text_fields(self) -> list[FieldSpec]:
        return self.by_role(Role.FREE_TEXT)

    @property
    def direct_identifiers(self) -> list[FieldSpec]:
        return self.by_role(Role.DIRECT_IDENTIFIER)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"source '{self.name}' has no field '{name}'")

    def dimension_labels(self, dimension: Dimension) -> dict[str, str]:
        """French labels of the values an aggregate's dimension column holds: code → label."""
        spec = self.field(dimension.field)
        if dimension.level is None:
            return spec.labels_at(0)
        return spec.labels_at(hierarchy_level(spec, dimension.level))


def _format_location(loc: tuple[Any, ...], data: Any) -> str:
    """Turn pydantic's ('fields', 3, 'hierarchy') into "fields[3] (postcode).hierarchy"."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and "name" in node:
                    label += f" ({node['name']})"
            parts.append(label)
        else:
            if isinstance(node, dict):
                node = node.get(item)
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def parse_source_config(data: Any, origin: str, sources_dir: Path = SOURCES_DIR) -> SourceConfig:
    """Validate already-parsed YAML; errors name the origin, the field and the reason.

    `sources_dir` is where a relative hierarchy file path is read from.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return SourceConfig.model_validate(data, context={"sources_dir": sources_dir})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _format_location(tuple(err["loc"]), data)
            # Union errors carry the discriminator tag in their location; it adds noise.
            reason = err["msg"].removeprefix("Value error, ")
            lines.append(f"{origin}: {where}: {reason}")
        raise ConfigError("\n".join(lines)) from None


def load_source_config(path: Path) -> SourceConfig:
    """Read and validate one source file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    config = parse_source_config(data, str(path), path.parent)
    if config.name != path.stem:
        raise ConfigError(f"{path}: name: '{config.name}' must match the file name '{path.stem}'")
    return config


def load_all_sources(directory: Path = SOURCES_DIR) -> dict[str, SourceConfig]:
    """Every `*.yaml` in the sources folder, by name; an empty folder is an error."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(f"{directory}: no source configuration (*.yaml) found")
    return {cfg.name: cfg for cfg in map(load_source_config, paths)}
