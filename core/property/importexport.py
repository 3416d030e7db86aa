"""Import and export of property base data (楼栋, 房屋, 业主, 抄表) as rows, with a row-by-row validation report.

A file is checked completely before anything is written; a file with errors imports nothing unless the
caller asks for the good rows only. Column headers are Chinese, as the clerks' spreadsheets have them.
Core sees only rows of plain values; reading and writing the .xlsx files is reports/xlsx_io.py's job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from core.clock import today
from core.context import Context
from core.errors import AnjuError, ValidationError
from core.i18n import N_, translate
from core.money import fen_to_yuan_str
from core.property import billing
from core.property import services as ps
from core.property.models import Bill, Building, Community, House, HouseOccupant, MeterReading, Owner
from core.security.pii import KIND_ID_NUMBER, KIND_PHONE, reveal_or_mask

PERM_IMPORT = "property.import"
ROWS_MAX = 200_000  # one file; larger imports are split by the clerk
ERRORS_MAX = 1000  # reported; the count of rejected rows stays exact

COLUMNS: dict[str, tuple[str, ...]] = {
    "buildings": ("小区编码", "楼栋号", "楼栋名称", "层数"),
    "houses": (
        "小区编码",
        "楼栋号",
        "单元号",
        "房号",
        "楼层",
        "建筑面积",
        "套内面积",
        "户型",
        "用途",
        "状态",
        "起收日期",
    ),
    "owners": (
        "小区编码",
        "房屋编码",
        "类型",
        "姓名",
        "身份证号",
        "手机号",
        "统一社会信用代码",
        "关系",
        "份额",
        "入住日期",
    ),
    "meter-readings": ("小区编码", "房屋编码", "表类型", "月份", "上期读数", "本期读数", "抄表日期"),
}
EXAMPLES: dict[str, tuple] = {
    "buildings": ("C001", "3", "3号楼", 18),
    "houses": ("C001", "3", "2", "1201", 12, "89.50", "70.00", "3室2厅", "住宅", "已入住", "2026-01-01"),
    "owners": (
        "C001",
        "3-2-1201",
        "个人",
        "张三",
        "110105194912310021",
        "13812345678",
        "",
        "业主",
        100,
        "2026-01-01",
    ),
    "meter-readings": ("C001", "3-2-1201", "水", "2026-11", "120.5", "135.0", "2026-11-28"),
}
STATUS_NAMES = {"未售": "unsold", "空置": "vacant", "已入住": "occupied", "装修中": "renovating"}
KIND_NAMES = {"个人": "individual", "企业": "company"}
RELATION_NAMES = {"业主": "owner", "家属": "family", "租户": "tenant"}
METER_NAMES = {"水": "water", "电": "electricity", "燃气": "gas"}


@dataclass
class ImportReport:
    """What an import did: {"imported": n, "rejected": n, "errors": [{"row", "column", "message"}]}."""

    imported: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"imported": self.imported, "rejected": self.rejected, "errors": self.errors}


class _RowError(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(raw: str, column: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise _RowError(
            column, translate(N_("“{text}” is not a date (YYYY-MM-DD)."), {"text": raw})
        ) from None


def _int(raw: str, column: str, default: int = 0) -> int:
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise _RowError(column, translate(N_("“{text}” is not a whole number."), {"text": raw})) from None


def _check(fn, column: str):
    """Run a validator; its ValidationError becomes this row's error in `column`."""
    try:
        return fn()
    except AnjuError as err:
        raise _RowError(column, err.message()) from None


# ---------------------------------------------------------------------------------------------------------
# Row checks per kind: each returns a callable that writes the row inside the import's unit of work.


class _Lookup:
    """Caches of what rows refer to, read in the import's own transaction."""

    def __init__(self, session) -> None:
        self.s = session
        self.communities: dict[str, uuid.UUID | None] = {}
        self.houses: dict[tuple[uuid.UUID, str], uuid.UUID | None] = {}
        self.seen: set[tuple] = set()

    def community(self, code: str) -> uuid.UUID:
        if code not in self.communities:
            self.communities[code] = self.s.execute(
                select(Community.id).where(Community.code == code)
            ).scalar_one_or_none()
        cid = self.communities[code]
        if cid is None:
            raise _RowError("小区编码", translate(N_("There is no community {code}."), {"code": code}))
        return cid

    def house(self, community_id: uuid.UUID, code: str) -> uuid.UUID:
        key = (community_id, code)
        if key not in self.houses:
            self.houses[key] = self.s.execute(
                select(House.id).where(House.community_id == community_id, House.code == code)
            ).scalar_one_or_none()
        hid = self.houses[key]
        if hid is None:
            raise _RowError("房屋编码", translate(N_("There is no house {code}."), {"code": code}))
        return hid

    def once(self, key: tuple, column: str) -> None:
        if key in self.seen:
            raise _RowError(column, translate(N_("This row repeats an earlier row of the file."), None))
        self.seen.add(key)


def _building_row(ctx: Context, look: _Lookup, r: dict):
    cid = look.community(r["小区编码"])
    number = _check(lambda: ps._number(r["楼栋号"], "building"), "楼栋号")
    floors = _int(r["层数"], "层数")
    look.once(("b", cid, number), "楼栋号")
    if look.s.execute(
        select(Building.id).where(Building.community_id == cid, Building.number == number)
    ).first():
        raise _RowError(
            "楼栋号", translate(N_("Building {number} already exists in this community."), {"number": number})
        )
    if not 0 <= floors <= 300:
        raise _RowError("层数", translate(N_("Floors must be a whole number from 0 to 300."), None))
    return lambda uow: ps.create_building_in(uow, cid, number, name=r["楼栋名称"], floors=floors)


def _house_row(ctx: Context, look: _Lookup, r: dict):
    cid = look.community(r["小区编码"])
    b_area = _check(lambda: ps.parse_area_m2(r["建筑面积"], "building_area"), "建筑面积")
    i_area = _check(lambda: ps.parse_area_m2(r["套内面积"], "inner_area"), "套内面积")
    status = STATUS_NAMES.get(r["状态"] or "未售", r["状态"])
    h = ps.HouseInput(
        r["楼栋号"], r["单元号"] or None, r["房号"], b_area, i_area, _int(r["楼层"], "楼层"),
        r["户型"], r["用途"] or "住宅", status, _date(r["起收日期"], "起收日期"),
    )  # fmt: skip
    h = _check(lambda: ps.check_house_input(h), "房号")
    code = ps.house_code(h.building_no, h.unit_no, h.number)
    look.once(("h", cid, code), "房号")
    if not look.s.execute(
        select(Building.id).where(Building.community_id == cid, Building.number == h.building_no)
    ).first():
        raise _RowError(
            "楼栋号",
            translate(N_("There is no building {number} in this community."), {"number": h.building_no}),
        )
    if look.s.execute(select(House.id).where(House.community_id == cid, House.code == code)).first():
        raise _RowError(
            "房号", translate(N_("House {code} already exists in this community."), {"code": code})
        )
    return lambda uow: ps.add_house_in(uow, cid, h)


_OWNER_COLUMNS = {
    "id_number": "身份证号",
    "mobile": "手机号",
    "uscc": "统一社会信用代码",
    "name": "姓名",
    "kind": "类型",
}


def _owner_row(ctx: Context, look: _Lookup, r: dict):
    cid = look.community(r["小区编码"])
    house_id = look.house(cid, r["房屋编码"])
    kind = KIND_NAMES.get(r["类型"] or "个人")
    if kind is None:
        raise _RowError("类型", translate(N_("The type must be 个人 or 企业."), None))
    relation = RELATION_NAMES.get(r["关系"] or "业主")
    if relation is None:
        raise _RowError("关系", translate(N_("The relation must be 业主, 家属 or 租户."), None))
    try:
        o = ps.check_owner_input(
            ps.OwnerInput(
                r["姓名"], kind, r["身份证号"] or None, r["手机号"] or None, r["统一社会信用代码"] or None
            ),
            on=today(ctx.clock),
        )
    except ValidationError as err:
        raise _RowError(_OWNER_COLUMNS.get(err.field or "", "姓名"), err.message()) from None
    share = _int(r["份额"], "份额", 100 if relation == "owner" else 0)
    if not 0 <= share <= 100:
        raise _RowError("份额", translate(N_("A share is between 0 and 100 %."), None))
    move_in = _date(r["入住日期"], "入住日期")
    existing = None
    if o.id_number:
        bidx = ctx.pii.blind_index(KIND_ID_NUMBER, o.id_number)
        look.once(("o", house_id, bidx), "身份证号")
        existing = look.s.execute(select(Owner.id).where(Owner.id_number_bidx == bidx)).scalar_one_or_none()
    elif o.uscc:
        look.once(("o", house_id, o.uscc), "统一社会信用代码")
        existing = look.s.execute(select(Owner.id).where(Owner.uscc == o.uscc)).scalar_one_or_none()
    if (
        existing
        and look.s.execute(
            select(HouseOccupant.id).where(
                HouseOccupant.house_id == house_id,
                HouseOccupant.owner_id == existing,
                HouseOccupant.move_out_date.is_(None),
            )
        ).first()
    ):
        raise _RowError("身份证号", translate(N_("This person is already registered at this house."), None))

    def write(uow):
        owner_id = existing
        if owner_id is None and o.id_number:
            # An earlier row of the same file may have registered this person at another house.
            owner_id = uow.session.execute(
                select(Owner.id).where(
                    Owner.id_number_bidx == ctx.pii.blind_index(KIND_ID_NUMBER, o.id_number)
                )
            ).scalar_one_or_none()
        if owner_id is None:
            owner_id = ps.create_owner_in(uow, o)
        ps.add_occupant_in(
            uow,
            house_id,
            owner_id,
            relation,
            share_bp=share * 100 if relation == "owner" else 0,
            move_in_date=move_in,
        )

    return write


def _reading_row(ctx: Context, look: _Lookup, r: dict):
    cid = look.community(r["小区编码"])
    house_id = look.house(cid, r["房屋编码"])
    kind = METER_NAMES.get(r["表类型"])
    if kind is None:
        raise _RowError("表类型", translate(N_("The meter type must be 水, 电 or 燃气."), None))
    period = _check(lambda: str(billing.rules.Period.parse(r["月份"])), "月份")
    prev = (
        _check(lambda: billing.parse_reading(r["上期读数"], "previous"), "上期读数")
        if r["上期读数"]
        else None
    )
    cur = _check(lambda: billing.parse_reading(r["本期读数"], "current"), "本期读数")
    if prev is not None and cur < prev:
        raise _RowError(
            "本期读数",
            translate(
                N_("This reading ({current}) is below the previous one ({previous})."),
                {"current": r["本期读数"], "previous": r["上期读数"]},
            ),
        )
    read_on = _date(r["抄表日期"], "抄表日期")
    look.once(("m", house_id, kind, period), "月份")
    if look.s.execute(
        select(MeterReading.id).where(
            MeterReading.house_id == house_id, MeterReading.meter_kind == kind, MeterReading.period == period
        )
    ).first():
        raise _RowError(
            "月份", translate(N_("This meter already has a reading for {period}."), {"period": period})
        )
    return lambda uow: billing.record_reading_in(
        uow, house_id, kind, period, cur, previous_milli=prev, read_on=read_on
    )


_ROW_CHECKS = {
    "buildings": _building_row,
    "houses": _house_row,
    "owners": _owner_row,
    "meter-readings": _reading_row,
}


def import_rows(
    ctx: Context,
    kind: str,
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    *,
    good_rows_only: bool = False,
) -> ImportReport:
    """Check every row, then write the good ones in one transaction — or none if any row is bad (unless good_rows_only).

    Row numbers in the report are spreadsheet rows (the header is row 1).
    """
    if kind not in COLUMNS:
        raise ValidationError(N_("Unknown import kind {kind}."), field="kind", kind=kind)
    if len(rows) > ROWS_MAX:
        raise ValidationError(N_("A file has at most {max} rows; split it."), field="file", max=ROWS_MAX)
    names = [_cell(h) for h in header]
    missing = [c for c in COLUMNS[kind] if c not in names]
    if missing:
        raise ValidationError(
            N_("The file lacks the columns: {columns}."), field="file", columns="、".join(missing)
        )
    index = {c: names.index(c) for c in COLUMNS[kind]}
    report = ImportReport()
    check = _ROW_CHECKS[kind]
    with ctx.uow(PERM_IMPORT) as uow:
        look = _Lookup(uow.session)
        writers = []
        for n, raw in enumerate(rows, start=2):
            if not any(_cell(v) for v in raw):
                continue
            r = {c: _cell(raw[i]) if i < len(raw) else "" for c, i in index.items()}
            try:
                writers.append(check(ctx, look, r))
            except _RowError as err:
                report.rejected += 1
                if len(report.errors) < ERRORS_MAX:
                    report.errors.append({"row": n, "column": err.column, "message": err.message})
        if report.rejected and not good_rows_only:
            return report
        for write in writers:
            write(uow)
        report.imported = len(writers)
        uow.audit(
            "property.import",
            "prop_import",
            kind,
            after={"kind": kind, **report.to_dict(), "errors": len(report.errors)},
        )
    return report


# ---------------------------------------------------------------------------------------------------------
# Templates and exports as rows (the Excel files are written by reports/xlsx_io.py)


def template_rows(kind: str) -> tuple[tuple[str, ...], list[tuple]]:
    """An empty import template: the header row and one example row."""
    if kind not in COLUMNS:
        raise ValidationError(N_("Unknown import kind {kind}."), field="kind", kind=kind)
    return COLUMNS[kind], [EXAMPLES[kind]]


EXPORT_KINDS = ("houses", "owners", "bills")
_STATUS_ZH = {v: k for k, v in STATUS_NAMES.items()}
_BILL_STATUS_ZH = {"unpaid": "未缴", "partially_paid": "部分缴纳", "paid": "已缴", "waived": "已减免"}


def _m2(dm2: int) -> str:
    return f"{dm2 // 100}.{dm2 % 100:02d}"


def export_rows(
    ctx: Context, kind: str, *, community_id: uuid.UUID | None = None
) -> tuple[tuple[str, ...], list[tuple]]:
    """The header and rows of houses, owners (masked unless pii.reveal) or bills, as the Excel export has them."""
    if kind not in EXPORT_KINDS:
        raise ValidationError(N_("Unknown export kind {kind}."), field="kind", kind=kind)
    with ctx.read(ps.PERM_VIEW) as s:
        codes = dict(s.execute(select(Community.id, Community.code)).all())
        buildings = dict(s.execute(select(Building.id, Building.number)).all())
        if kind == "houses":
            header = (
                "小区编码",
                "楼栋号",
                "单元号",
                "房号",
                "房屋编码",
                "楼层",
                "建筑面积",
                "套内面积",
                "户型",
                "用途",
                "状态",
                "起收日期",
            )
            q = select(House).order_by(House.community_id, House.code)
            if community_id:
                q = q.where(House.community_id == community_id)
            rows = []
            for h in s.execute(q).scalars():
                unit = h.code.split("-")[1] if h.unit_id else ""
                rows.append((codes[h.community_id], buildings[h.building_id], unit, h.number, h.code, h.floor,
                             _m2(h.building_area_dm2), _m2(h.inner_area_dm2), h.layout, h.use, _STATUS_ZH[h.status],
                             h.charge_start_on.isoformat() if h.charge_start_on else ""))  # fmt: skip
        elif kind == "owners":
            header = (
                "小区编码",
                "房屋编码",
                "类型",
                "姓名",
                "身份证号",
                "手机号",
                "统一社会信用代码",
                "关系",
                "份额",
                "入住日期",
                "迁出日期",
            )
            q = (
                select(HouseOccupant, Owner, House.code, House.community_id)
                .join(Owner, Owner.id == HouseOccupant.owner_id)
                .join(House, House.id == HouseOccupant.house_id)
                .order_by(House.community_id, House.code, HouseOccupant.move_in_date)
            )
            if community_id:
                q = q.where(House.community_id == community_id)
            rel = {v: k for k, v in RELATION_NAMES.items()}
            kinds = {v: k for k, v in KIND_NAMES.items()}
            rows = []
            for oc, o, code, cid in s.execute(q).all():
                id_no = ctx.pii.decrypt(o.id_number_enc) if o.id_number_enc else None
                phone = ctx.pii.decrypt(o.phone_enc) if o.phone_enc else None
                rows.append((codes[cid], code, kinds[o.kind], o.name, reveal_or_mask(ctx.actor, KIND_ID_NUMBER, id_no) or "",
                             reveal_or_mask(ctx.actor, KIND_PHONE, phone) or "", o.uscc or "", rel[oc.relation],
                             oc.share_bp / 100 if oc.relation == "owner" else "", oc.move_in_date.isoformat(),
                             oc.move_out_date.isoformat() if oc.move_out_date else ""))  # fmt: skip
        else:
            header = (
                "账单号",
                "小区编码",
                "房屋编码",
                "月份",
                "出账日期",
                "缴费期限",
                "应收(元)",
                "已收(元)",
                "减免(元)",
                "状态",
            )
            q = select(Bill, House.code).join(House, House.id == Bill.house_id).order_by(Bill.bill_no)
            if community_id:
                q = q.where(Bill.community_id == community_id)
            rows = [
                (b.bill_no, codes[b.community_id], code, b.period, b.bill_date.isoformat(), b.due_date.isoformat(),
                 fen_to_yuan_str(b.amount_fen), fen_to_yuan_str(b.paid_fen), fen_to_yuan_str(b.waived_fen),
                 _BILL_STATUS_ZH[b.status])
                for b, code in s.execute(q).all()
            ]  # fmt: skip
    return header, rows
