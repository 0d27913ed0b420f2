"""Monthly payrolls in the graph (core, for every programme): generate a draft,
approve it, page through its lines, export it as CSV or XLSX.

Composed like a plugin's part: the builder adds :data:`contribution` to its core
parts.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import select

from minzheng.core import audit, divisions, payroll
from minzheng.core.hookspecs import SchemaContribution
from minzheng.core.models import Payroll, PayrollLine, PayrollLineKind, PayrollStatus
from minzheng.schema import ids
from minzheng.schema.errors import UserError
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import by_key, later
from minzheng.schema.mutations import run
from minzheng.schema.pagination import Edge, PageInfo, keyset_page
from minzheng.schema.permissions import requires
from minzheng.schema.pii import PII_READ
from minzheng.schema.types import HouseholdRef, Node, PersonRef, RegionRef, ctx

READ = "payroll:read"
GENERATE = "payroll:write"
APPROVE = "payroll:approve"

strawberry.enum(
    PayrollStatus,
    name="PayrollStatus",
    description="名册状态 Draft (may be regenerated) or approved (frozen)",
)
strawberry.enum(
    PayrollLineKind,
    name="PayrollLineKind",
    description="发放类型 Regular payment or an adjustment for an earlier month",
)
strawberry.enum(payroll.ExportFormat, name="PayrollExportFormat", description="导出格式 CSV/XLSX")
strawberry.enum(
    payroll.ChangeKind,
    name="PayrollLineChangeKind",
    description="变化 Added, removed or changed since the last generation",
)


def _loader(info: strawberry.Info, name: str, model: Any) -> Any:
    loaders = ctx(info).loaders
    if name not in loaders:
        loaders[name] = by_key(ctx(info).db, model)
    return loaders[name]


def _month(value: dt.date, path: str) -> dt.date:
    if value.day != 1:
        raise GraphQLError(
            f"{path}: a month is given as its first day (YYYY-MM-01)",
            extensions={"code": "BAD_MONTH", "field": path},
        )
    return value


@strawberry.type(name="PayrollLine", description="发放明细 One payment on a payroll")
class PayrollLineType:
    @strawberry.field(description="全局ID Global ID")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("PayrollLine", self.id))  # type: ignore[attr-defined]

    kind: PayrollLineKind = strawberry.field(description="发放类型 Regular or adjustment")
    covers_month: dt.date = strawberry.field(description="所属月份 The month paid for")
    amount_fen: int = strawberry.field(description="金额(分) Amount; negative = recovered")
    note: str | None = strawberry.field(description="备注 Why (adjustments: due vs paid)")
    region_code: str = strawberry.field(description="区划 The payee's village or community")

    @strawberry.field(description="人员 The person paid (person-level programmes)")
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        pid = self.person_id  # type: ignore[attr-defined]
        return await ctx(info).loaders["person_by_id"].load(pid) if pid else None

    @strawberry.field(description="户 The household paid (household-level programmes)")
    async def household(self, info: strawberry.Info) -> HouseholdRef | None:
        hid = self.household_id  # type: ignore[attr-defined]
        return await ctx(info).loaders["household_by_id"].load(hid) if hid else None


@strawberry.type(name="PayrollLineConnection", description="发放明细列表 A page of lines")
class PayrollLineConnection:
    edges: list[Edge[PayrollLineType]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total lines")
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(name="PayrollExport", description="导出文件 A payroll rendered as a file")
class PayrollExport:
    filename: str = strawberry.field(description="文件名 File name")
    media_type: str = strawberry.field(description="类型 Media type")
    content_base64: str = strawberry.field(description="内容 File content, base64")


@strawberry.type(
    name="Payroll", description="发放名册 A monthly payroll of one programme and region"
)
class PayrollType(Node):
    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (Payroll, cls))

    @strawberry.field(description="全局ID Global ID")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Payroll", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    programme: str = strawberry.field(description="项目代码 Programme code")
    region_code: str = strawberry.field(description="区划 Region paid (12 digits)")
    month: dt.date = strawberry.field(description="月份 The month (its first day)")
    status: PayrollStatus = strawberry.field(description="状态 Draft or approved")
    generated_at: dt.datetime = strawberry.field(description="生成时间 Last (re)generated")
    approved_at: dt.datetime | None = strawberry.field(description="审批时间 Approved at")
    approved_by: str | None = strawberry.field(description="审批人 Approved by")
    line_count: int = strawberry.field(description="笔数 Number of lines")
    total_fen: int = strawberry.field(description="合计(分) Total in fen")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="区划 The region")
    async def region(self, info: strawberry.Info) -> RegionRef | None:
        return await ctx(info).loaders["region_by_code"].load(self.region_code)  # type: ignore[no-any-return]

    @strawberry.field(description="发放明细 Lines, by key, with cursor pagination")
    async def lines(
        self,
        info: strawberry.Info,
        first: int = 50,
        after: str | None = None,
        kind: PayrollLineKind | None = None,
    ) -> PayrollLineConnection:
        stmt = select(PayrollLine).where(PayrollLine.payroll_id == self.id)  # type: ignore[attr-defined]
        if kind is not None:
            stmt = stmt.where(PayrollLine.kind == kind)
        page = await keyset_page(info, stmt, PayrollLine.id, first=first, after=after)
        return PayrollLineConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(
        description="导出 The payroll as CSV or XLSX with Chinese headings; ID numbers "
        "unmasked only with pii:read (and that read is audited)"
    )
    async def export(self, info: strawberry.Info, format: payroll.ExportFormat) -> PayrollExport:
        c = ctx(info)
        unmasked = c.principal.can(PII_READ)
        pid = self.id  # type: ignore[attr-defined]
        f = await c.db.run(lambda s: payroll.export_payroll(s, pid, format, unmasked=unmasked))
        if unmasked:
            c.pii_reads.add(("Payroll", str(pid)))
        return PayrollExport(
            filename=f.filename,
            media_type=f.media_type,
            content_base64=base64.b64encode(f.content).decode(),
        )


@strawberry.type(
    name="PayrollLineChange", description="名册变化 How a line changed on regeneration"
)
class PayrollLineChange:
    change: payroll.ChangeKind = strawberry.field(description="变化 Added, removed, changed")
    kind: PayrollLineKind = strawberry.field(description="发放类型 Line kind")
    covers_month: dt.date = strawberry.field(description="所属月份 Month paid for")
    person_id: strawberry.ID | None = strawberry.field(description="人员 Person ID")
    household_id: strawberry.ID | None = strawberry.field(description="户 Household ID")
    old_amount_fen: int | None = strawberry.field(description="原金额(分) Before")
    new_amount_fen: int | None = strawberry.field(description="新金额(分) After")


@strawberry.type(name="PayrollConnection", description="名册列表 A page of payrolls")
class PayrollConnection:
    edges: list[Edge[PayrollType]]
    page_info: PageInfo


@strawberry.input(description="生成名册 Generate (or bring up to date) a month's draft payroll")
class GeneratePayrollInput:
    programme: str = strawberry.field(description="项目代码 Programme code (dibao, tekun …)")
    region_code: str = strawberry.field(description="区划 Region at the programme's payroll level")
    month: dt.date = strawberry.field(description="月份 The month's first day (YYYY-MM-01)")
    idempotency_key: str | None = strawberry.field(default=None, description="幂等键")


@strawberry.type(description="生成名册结果 Result of generating a payroll")
class GeneratePayrollPayload:
    payroll: PayrollType | None
    created: bool | None = strawberry.field(description="新建 A new draft was created")
    changes: list[PayrollLineChange] = strawberry.field(
        description="变化 What changed since the draft was last generated (empty: nothing)",
        metadata=list_size(200),
    )
    errors: list[UserError]


@strawberry.input(description="审批名册 Approve (freeze) a draft payroll")
class ApprovePayrollInput:
    payroll_id: strawberry.ID
    version: int = strawberry.field(description="版本 The version you reviewed")
    idempotency_key: str | None = strawberry.field(default=None, description="幂等键")


@strawberry.type(description="审批名册结果 Result of approving a payroll")
class ApprovePayrollPayload:
    payroll: PayrollType | None
    errors: list[UserError]


def _change(c: dict[str, Any]) -> PayrollLineChange:
    return PayrollLineChange(
        change=payroll.ChangeKind(c["change"]),
        kind=PayrollLineKind(c["kind"]),
        covers_month=dt.date.fromisoformat(c["covers_month"]),
        person_id=strawberry.ID(ids.encode("Person", c["person_id"])) if c["person_id"] else None,
        household_id=strawberry.ID(ids.encode("Household", c["household_id"]))
        if c["household_id"]
        else None,
        old_amount_fen=c["old"],
        new_amount_fen=c["new"],
    )


@strawberry.type
class PayrollQuery:
    @strawberry.field(description="发放名册 A payroll by global ID", extensions=requires(READ))
    async def payroll(self, info: strawberry.Info, id: strawberry.ID) -> PayrollType | None:
        pk = ids.try_decode(id, "Payroll")
        return None if pk is None else await _loader(info, "payroll_by_id", Payroll).load(pk)

    @strawberry.field(
        description="某月名册 The payroll of a programme, region and month, if generated",
        extensions=requires(READ),
    )
    async def payroll_for(
        self, info: strawberry.Info, programme: str, region_code: str, month: dt.date
    ) -> PayrollType | None:
        try:
            code = divisions.parse(region_code).full
        except divisions.InvalidRegionCode:
            raise GraphQLError(
                f"{region_code!r} is not a division code", extensions={"code": "BAD_REGION_CODE"}
            ) from None
        rows = await ctx(info).db.scalars(
            select(Payroll).where(
                Payroll.programme == programme,
                Payroll.region_code == code,
                Payroll.month == _month(month, "month"),
            )
        )
        return rows[0] if rows else None

    @strawberry.field(description="名册列表 Payrolls, newest key last", extensions=requires(READ))
    async def payrolls(
        self,
        info: strawberry.Info,
        programme: str | None = None,
        region_code: str | None = None,
        status: PayrollStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> PayrollConnection:
        stmt = select(Payroll)
        if programme:
            stmt = stmt.where(Payroll.programme == programme)
        if region_code:
            try:
                lo, hi = divisions.parse(region_code).bounds
            except divisions.InvalidRegionCode:
                raise GraphQLError(
                    f"{region_code!r} is not a division code",
                    extensions={"code": "BAD_REGION_CODE"},
                ) from None
            stmt = stmt.where(Payroll.region_code.between(lo, hi))
        if status is not None:
            stmt = stmt.where(Payroll.status == status)
        page = await keyset_page(info, stmt, Payroll.id, first=first, after=after)
        return PayrollConnection(edges=page.edges(Edge), page_info=page.page_info)


@strawberry.type
class PayrollMutation:
    @strawberry.mutation(
        description="生成名册 Generate a month's draft payroll from the enrolments in force on "
        "its last day (regenerating reports what changed); corrections for approved months "
        "become adjustment lines",
        extensions=requires(GENERATE),
    )
    async def generate_payroll(
        self, info: strawberry.Info, input: GeneratePayrollInput
    ) -> GeneratePayrollPayload:
        async def work(session: Any) -> dict[str, Any]:
            try:
                month = _month(input.month, "input.month")
            except GraphQLError as exc:
                from minzheng.core.errors import ValidationFailed

                raise ValidationFailed("input.month", "month.first_day", exc.message) from None
            gen = await payroll.generate_payroll(session, input.programme, input.region_code, month)
            if gen.changed:
                audit.record(
                    session,
                    action="payroll.generate",
                    entity=gen.payroll,
                    after={**(audit.snapshot(gen.payroll) or {}), "changes": len(gen.changes)},
                )
            return {
                "id": gen.payroll.id,
                "region_code": gen.payroll.region_code,
                "created": gen.created,
                "changes": [
                    {
                        "change": c.change.value,
                        "kind": c.kind.value,
                        "covers_month": c.covers_month.isoformat(),
                        "person_id": c.person_id,
                        "household_id": c.household_id,
                        "old": c.old_amount_fen,
                        "new": c.new_amount_fen,
                    }
                    for c in gen.changes
                ],
            }

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            if result is None:
                return GeneratePayrollPayload(payroll=None, created=None, changes=[], errors=errors)
            return GeneratePayrollPayload(
                payroll=later(_loader(info, "payroll_by_id", Payroll), result["id"]),
                created=result["created"],
                changes=[_change(c) for c in result["changes"]],
                errors=errors,
            )

        return await run(
            info,
            "generatePayroll",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="审批名册 Approve a draft: frozen from then on; refused if the enrolments "
        "changed since it was generated",
        extensions=requires(APPROVE),
    )
    async def approve_payroll(
        self, info: strawberry.Info, input: ApprovePayrollInput
    ) -> ApprovePayrollPayload:
        async def work(session: Any) -> dict[str, Any]:
            pk = ids.decode(input.payroll_id, expect="Payroll", field="input.payrollId")[1]
            before = None
            row = await session.get(Payroll, pk)
            if row is not None:
                before = audit.snapshot(row)
            p = await payroll.approve_payroll(
                session, pk, approved_by=ctx(info).principal.subject, expected_version=input.version
            )
            audit.record(session, action="payroll.approve", entity=p, before=before)
            return {"id": p.id, "region_code": p.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            p = (
                None
                if result is None
                else later(_loader(info, "payroll_by_id", Payroll), result["id"])
            )
            return ApprovePayrollPayload(payroll=p, errors=errors)

        return await run(
            info,
            "approvePayroll",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )


contribution = SchemaContribution(
    query=PayrollQuery,
    mutation=PayrollMutation,
    types=[PayrollType],
    nodes={"Payroll": "payroll_by_id"},
)
