"""Demo data for property operations over the demo's recent days: repair work orders in every state (pending,
in the grab pool, dispatched, accepted, in progress, paused, completed, rated, closed after a return visit,
cancelled), car parks with fixed and temporary spaces, owners' vehicles, sold and rented spaces and a day of
entries and exits, notices (draft, published and partly read, withdrawn), complaints in every state, suggestions
adopted and declined, and activities planned, open for sign-up with a waiting list, finished with attendance,
and cancelled. Everything goes through the property services with the demo's clock.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from core.clock import BUSINESS_TZ, FakeClock
from core.context import Context

REPAIR_TYPES = (  # code, name, response minutes, completion minutes
    ("PLUMB", "水管漏水", 30, 240),
    ("ELEC", "电路故障", 30, 180),
    ("DOOR", "门窗维修", 120, 1440),
    ("LIFT", "电梯故障", 15, 120),
)
PLATE_LETTERS = "ABCDEFGHJKLMNPQ"


def _local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), BUSINESS_TZ)


class OpsDemo:
    """Called by the hub demo's day loop: `setup` on the first day, `day` on each day (index i of n)."""

    def __init__(
        self,
        ctx: Context,
        clock: FakeClock,
        community_id: uuid.UUID,
        houses: list,
        clerk: Context,
        progress: Callable[[str], None],
    ) -> None:
        self.ctx, self.clock, self.community_id, self.houses = ctx, clock, community_id, houses
        self.clerk, self.progress = clerk, progress
        self.worker = clerk.actor.username  # 李物业 dispatches and works the orders in the demo
        self.rng = random.Random(20261127)
        self.owner_of: dict[uuid.UUID, uuid.UUID] = {}

    def at(self, day: date, hh: int, mm: int = 0) -> None:
        self.clock.set(_local(day, hh, mm))

    def owner(self, house) -> uuid.UUID | None:
        from core.property import services as ps

        if house.id not in self.owner_of:
            owners = [o for o in ps.occupants(self.ctx, house.id) if o.relation == "owner"]
            if not owners:
                return None
            self.owner_of[house.id] = owners[0].owner_id
        return self.owner_of[house.id]

    def sample(self, n: int) -> list:
        with_owner = [h for h in self.rng.sample(self.houses, min(len(self.houses), n * 2)) if self.owner(h)]
        return with_owner[:n]

    # -------------------------------------------------------------------------------------------- setup

    def setup(self, day: date) -> None:
        from core.property.parking import services as parking
        from core.property.parking.rules import FeeRule
        from core.property.repairs import services as repairs

        self.at(day, 8, 10)
        for code, name, response, completion in REPAIR_TYPES:
            repairs.define_repair_type(
                self.ctx, code, name, response_minutes=response, completion_minutes=completion,
                grab_allowed=code != "LIFT",
            )  # fmt: skip
        under = parking.create_area(self.ctx, self.community_id, "B1", "地下停车场 B1", "underground")
        above = parking.create_area(self.ctx, self.community_id, "P1", "地面临时车位", "above_ground")
        n_fixed = max(6, len(self.houses) // 4)
        fixed = parking.add_spaces(
            self.ctx, under.id, [f"B1-{i:03d}" for i in range(1, n_fixed + 1)], kind="fixed", location="B1 层"
        )
        parking.add_spaces(
            self.ctx, above.id, [f"P1-{i:02d}" for i in range(1, 21)], kind="temporary", location="东门内侧"
        )
        parking.set_fee_rule(self.ctx, self.community_id, FeeRule(15, 60, 500, 60, 300, 3_000))
        self.area_under, self.area_above = under.id, above.id
        # A third of the fixed spaces sold to houses, a third rented out; owners register their cars.
        owners = self.sample(n_fixed)
        self.plates: list[str] = []
        for k, (space, house) in enumerate(zip(fixed, owners, strict=False)):
            owner_id = self.owner(house)
            plate = f"京{self.rng.choice(PLATE_LETTERS)}{self.rng.randrange(10_000, 99_999)}"
            parking.register_vehicle(
                self.ctx, self.community_id, owner_id, plate, house_id=house.id,
                brand=self.rng.choice(("大众", "丰田", "比亚迪", "本田", "特斯拉")),
                color=self.rng.choice(("白", "黑", "银", "蓝")),
            )  # fmt: skip
            self.plates.append(plate)
            if k % 3 == 0:
                parking.assign_space(self.ctx, space.id, house.id, owner_id)
            elif k % 3 == 1:
                parking.rent_space(
                    self.ctx, space.id, house_id=house.id, start_date=day.replace(day=1),
                    end_date=day.replace(day=1) + timedelta(days=364), monthly_fee_fen=30_000, owner_id=owner_id,
                )  # fmt: skip

    # --------------------------------------------------------------------------------------------- days

    def day(self, i: int, n: int, day: date) -> None:
        """Spread the operations over the days so each screen has a history with times."""
        if i == 0:
            self.repairs(day)
        if i == min(1, n - 1):
            self.complaints(day)
        if i == min(2, n - 1):
            self.notices(day)
        if i == min(3, n - 1):
            self.activities_past(day)
        if i == n - 1:
            self.repairs_open(day)
            self.activities_coming(day)
        self.parking_traffic(day, last=i == n - 1)

    def parking_traffic(self, day: date, *, last: bool) -> None:
        """Visitors park on the temporary spaces and pay by the hour; on the last day some residents' cars are
        in the underground car park (live occupancy)."""
        from core.property.parking import services as parking

        for k in range(3):
            plate = f"京{self.rng.choice(PLATE_LETTERS)}{self.rng.randrange(10_000, 99_999)}"
            self.at(day, 9 + k * 2, 5)
            parking.vehicle_enter(self.ctx, self.area_above, plate)
            self.at(day, 9 + k * 3 + 1, 20)
            parking.vehicle_exit(self.ctx, self.area_above, plate)
        if last:
            for k, plate in enumerate(self.plates[:4]):
                self.at(day, 18, 10 * k)
                parking.vehicle_enter(self.ctx, self.area_under, plate)

    def repairs(self, day: date) -> None:
        """Work orders reported on the first day that went all the way (completed, rated, closed, cancelled)."""
        from core.property.repairs import services as repairs

        clerk, houses = self.clerk, self.sample(5)
        descriptions = (
            ("PLUMB", "厨房水槽下水管漏水"), ("ELEC", "卫生间插座跳闸"), ("DOOR", "入户门锁芯损坏"),
            ("PLUMB", "阳台地漏堵塞"), ("ELEC", "客厅灯不亮"),
        )  # fmt: skip
        for k, (house, (code, text)) in enumerate(zip(houses, descriptions, strict=False)):
            self.at(day, 9 + k, 0)
            wo = repairs.report(
                self.ctx, community_id=self.community_id, repair_type=code, description=text, house_id=house.id,
                owner_id=self.owner(house),
            )  # fmt: skip
            if k == 4:
                repairs.cancel(clerk, wo.id, "业主自行修好，撤销报修")
                continue
            self.clock.advance(minutes=10)
            repairs.assign(clerk, wo.id, self.worker)
            repairs.accept(clerk, wo.id)
            self.clock.advance(minutes=20)
            repairs.start(clerk, wo.id)
            repairs.add_material(clerk, wo.id, "配件", 1, 3_500 + 1_000 * k)
            self.clock.advance(minutes=50)
            repairs.complete(
                clerk, wo.id, note="已修复，业主验收", paid=k == 1, labor_fen=5_000 if k == 1 else 0
            )
            if k >= 1:
                self.clock.advance(hours=3)
                repairs.rate(self.ctx, wo.id, speed=5 - k % 2, quality=5, comment="师傅很专业")
            if k >= 2:
                self.clock.advance(hours=5)
                repairs.return_visit(clerk, wo.id, note="电话回访，业主满意", satisfied=True)

    def repairs_open(self, day: date) -> None:
        """Orders still open on the last day: pending, in the grab pool, dispatched, accepted, in progress, paused,
        and one common-area order past its SLA."""
        from core.property.repairs import services as repairs

        clerk, houses = self.clerk, self.sample(6)
        self.at(day, 7, 30)
        repairs.report(
            self.ctx, community_id=self.community_id, repair_type="LIFT", common_area="3号楼 1单元 电梯",
            description="电梯运行中异响，偶尔停顿",
        )  # fmt: skip
        texts = (
            "马桶水箱漏水",
            "空调外机支架松动",
            "窗户把手断裂",
            "防盗门关不严",
            "热水器无法点火",
            "天花板渗水",
        )
        steps = ("pending", "grab", "dispatched", "accepted", "in_progress", "paused")
        for k, (house, text, step) in enumerate(zip(houses, texts, steps, strict=False)):
            self.at(day, 10 + k, 15)
            wo = repairs.report(
                self.ctx, community_id=self.community_id, repair_type=("PLUMB", "DOOR", "DOOR", "DOOR", "ELEC", "PLUMB")[k],
                description=text, house_id=house.id, owner_id=self.owner(house),
            )  # fmt: skip
            if step == "grab":
                repairs.open_for_grab(clerk, wo.id)
            elif step != "pending":
                repairs.assign(clerk, wo.id, self.worker)
                if step in ("accepted", "in_progress", "paused"):
                    repairs.accept(clerk, wo.id)
                if step in ("in_progress", "paused"):
                    repairs.start(clerk, wo.id)
                if step == "paused":
                    repairs.pause(clerk, wo.id, "等待配件到货")

    def complaints(self, day: date) -> None:
        """Complaints in each state, and suggestions adopted, declined and under evaluation."""
        from core.property.complaints import services as cs

        clerk = self.clerk
        cases = (
            ("noise", "楼上夜间装修噪音扰民", "closed"),
            ("environment", "垃圾分类点未及时清运", "replied"),
            ("service", "保安态度不好", "handling"),
            ("facility", "单元门禁经常失灵", "assigned"),
            ("security", "地下车库照明不足", "accepted"),
            ("fee", "物业费账单面积有误", "submitted"),
            ("neighbour", "邻居占用楼道堆放杂物", "cancelled"),
            ("other", "快递柜不够用", "reopened"),
        )
        for k, (house, (category, text, goal)) in enumerate(
            zip(self.sample(len(cases)), cases, strict=False)
        ):
            self.at(day, 9 + k // 6, 10 * (k % 6))
            c = cs.submit_complaint(
                self.ctx, community_id=self.community_id, category=category, content=text, house_id=house.id,
                owner_id=self.owner(house),
            )  # fmt: skip
            if goal == "submitted":
                continue
            if goal == "cancelled":
                cs.cancel(clerk, c.id, "业主已与邻居协商解决")
                continue
            self.clock.advance(minutes=30)
            cs.accept(clerk, c.id)
            if goal == "accepted":
                continue
            cs.assign(clerk, c.id, self.worker)
            if goal == "assigned":
                continue
            cs.handle(clerk, c.id, "已安排现场查看")
            if goal == "handling":
                continue
            self.clock.advance(hours=3)
            cs.reply(clerk, c.id, "已处理并加强日常巡查")
            if goal == "closed":
                cs.confirm(self.ctx, c.id, "满意")
            elif goal == "reopened":
                cs.reopen(self.ctx, c.id, "问题仍未解决")
        ideas = (
            ("增设电动车充电桩", "adopt"),
            ("小区内开设便利店", "decline"),
            ("增加儿童游乐设施", "evaluate"),
        )
        for k, (title, goal) in enumerate(ideas):
            self.at(day, 15, 10 * k)
            sg = cs.submit_suggestion(
                self.ctx, community_id=self.community_id, title=title, content=title + "，方便业主"
            )
            if goal == "adopt":
                cs.adopt(clerk, sg.id, "纳入明年改造计划")
            elif goal == "decline":
                cs.decline(clerk, sg.id, "规划用途不允许经营")
            else:
                cs.evaluate(clerk, sg.id, "正在征求业主意见")

    def notices(self, day: date) -> None:
        """A water outage notice published (some residents read it), an announcement, a withdrawn one, a draft."""
        from core.property.notices import services as ns

        clerk = self.clerk
        self.at(day, 8, 0)
        outage = ns.draft(
            clerk, community_id=self.community_id, kind="notice", category="outage", title="停水通知",
            body=f"因管网检修，{day + timedelta(days=3):%m月%d日} 9:00–15:00 全小区停水，请提前储水。",
            channels=["app_push", "sms", "notice_board"],
        )  # fmt: skip
        ns.publish(clerk, outage.id)
        self.clock.advance(hours=2)
        for house in self.sample(6):
            ns.mark_read(self.ctx, outage.id, self.owner(house))
        rules = ns.draft(
            clerk, community_id=self.community_id, kind="announcement", category="regulation", title="文明养犬公约",
            body="遛犬请牵绳、及时清理粪便；大型犬请勿进入儿童游乐区。",
        )  # fmt: skip
        ns.publish(clerk, rules.id)
        wrong = ns.draft(
            clerk, community_id=self.community_id, kind="notice", category="maintenance", title="电梯年检通知",
            body="电梯年检，时间待定。",
        )  # fmt: skip
        ns.publish(clerk, wrong.id)
        self.clock.advance(minutes=30)
        ns.withdraw(clerk, wrong.id, "时间有误，另行通知")
        ns.draft(
            clerk, community_id=self.community_id, kind="notice", category="safety", title="冬季消防安全提示",
            body="冬季用电用火增多，请勿在楼道停放电动车、堆放杂物。",
        )  # fmt: skip

    def activities_past(self, day: date) -> None:
        """An activity held on this day: sign-ups, attendance, finished; and one called off."""
        from core.property.activities import services as acts

        clerk = self.clerk
        self.at(day - timedelta(days=2), 9)
        a = acts.plan(
            clerk, community_id=self.community_id, title="社区义诊", content="三甲医院医生义诊、测血压血糖",
            place="小区中心广场", starts_at=_local(day, 9), ends_at=_local(day, 12), capacity=30,
        )  # fmt: skip
        acts.publish(clerk, a.id)
        owners = [self.owner(h) for h in self.sample(8)]
        for o in owners:
            self.clock.advance(minutes=17)
            acts.signup(clerk, a.id, o)
        off = acts.plan(
            clerk, community_id=self.community_id, title="露天电影", content="周末露天电影放映",
            place="小区南门草坪", starts_at=_local(day, 19), ends_at=_local(day, 21), capacity=50,
        )  # fmt: skip
        acts.publish(clerk, off.id)
        self.at(day, 8)
        acts.cancel(clerk, off.id, "天气预报有雨，活动取消")
        self.at(day, 12, 30)
        acts.record_attendance(clerk, a.id, owners[:6])
        acts.finish(clerk, a.id)

    def activities_coming(self, day: date) -> None:
        """Coming activities: one full with a waiting list (paid), one planned, not yet published."""
        from core.property.activities import services as acts

        clerk = self.clerk
        self.at(day, 9)
        start = day + timedelta(days=6)
        a = acts.plan(
            clerk, community_id=self.community_id, title="亲子烘焙课堂", content="亲子一起做圣诞饼干，材料费 30 元/组",
            place="会所二楼活动室", starts_at=_local(start, 14), ends_at=_local(start, 16), capacity=4,
            fee_fen=3_000, signup_deadline=_local(start - timedelta(days=1), 18),
        )  # fmt: skip
        acts.publish(clerk, a.id)
        for house in self.sample(6):
            self.clock.advance(minutes=23)
            acts.signup(clerk, a.id, self.owner(house), house_id=house.id)
        acts.plan(
            clerk, community_id=self.community_id, title="元旦联欢会", content="业主才艺表演、抽奖",
            place="小区中心广场", starts_at=_local(day + timedelta(days=30), 18),
            ends_at=_local(day + timedelta(days=30), 21), capacity=200,
        )  # fmt: skip
