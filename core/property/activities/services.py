"""Community activities: plan, publish, sign-ups with capacity and a waiting list (the head of the list is
promoted when a place frees up), paid sign-ups as pending charges for the hub, attendance and statistics.

Activity: planned --publish--> published --finish--> finished; planned|published --cancel--> cancelled.
Sign-up: confirmed | waitlisted --cancel--> cancelled; waitlisted --promote--> confirmed.
Seats are counted with the activity row locked (SELECT … FOR UPDATE on PostgreSQL; SQLite writers are serial),
so two owners can never both take the last place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from core.context import Context
from core.errors import Conflict, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.property.activities.models import Activity, ActivitySignup
from core.property.models import Community, House, Owner
from core.property.ops import services as ops
from core.uow import UnitOfWork

PERM_VIEW = "property.activities.view"
PERM_MANAGE = "property.activities.manage"
PERM_SIGNUP = "property.activities.signup"
OBJ_ACTIVITY = "prop_activity"
OBJ_SIGNUP = "prop_activity_signup"
EVENT_ACTIVITY = "property.activity_changed"
EVENT_SIGNUP = "property.activity_signup_changed"
CAPACITY_MAX = 100_000
PARTY_MAX = 10
FEE_MAX_FEN = 1_000_000

MACHINE = ops.Machine(
    object_type=OBJ_ACTIVITY,
    transitions={
        "publish": (frozenset({"planned"}), "published"),
        "finish": (frozenset({"published"}), "finished"),
        "cancel": (frozenset({"planned", "published"}), "cancelled"),
    },
    terminal=frozenset({"finished", "cancelled"}),
    event_type=EVENT_ACTIVITY,
)


@dataclass(frozen=True)
class ActivityView:
    id: uuid.UUID
    community_id: uuid.UUID
    title: str
    content: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime | None
    capacity: int
    fee_fen: int
    status: str
    version: int


@dataclass(frozen=True)
class SignupView:
    id: uuid.UUID
    activity_id: uuid.UUID
    owner_id: uuid.UUID
    party_size: int
    status: str
    queue_no: int
    charge_id: uuid.UUID | None
    attended: bool


@dataclass(frozen=True)
class ActivityStats:
    capacity: int
    confirmed_people: int
    confirmed_signups: int
    waitlisted_people: int
    waitlisted_signups: int
    cancelled_signups: int
    attended_people: int
    fee_expected_fen: int


def _view(a: Activity) -> ActivityView:
    return ActivityView(
        a.id,
        a.community_id,
        a.title,
        a.content,
        a.place,
        a.starts_at,
        a.ends_at,
        a.signup_deadline,
        a.capacity,
        a.fee_fen,
        a.status,
        a.version,
    )


def _sview(s: ActivitySignup) -> SignupView:
    return SignupView(
        s.id, s.activity_id, s.owner_id, s.party_size, s.status, s.queue_no, s.charge_id, s.attended
    )


def plan(
    ctx: Context,
    *,
    community_id: uuid.UUID,
    title: str,
    content: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    fee_fen: int = 0,
    signup_deadline: datetime | None = None,
) -> ActivityView:
    """Plan an activity (节日庆典, 亲子活动, …); owners can sign up once it is published."""
    title, content, place = (
        ops.text(title, "title", 200),
        ops.text(content, "content"),
        ops.text(place, "place", 200),
    )
    ops.aware(starts_at, "starts_at")
    ops.aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValidationError(N_("The activity ends before it starts."), field="ends_at")
    if signup_deadline is not None and ops.aware(signup_deadline, "signup_deadline") > starts_at:
        raise ValidationError(N_("Sign-up must close before the activity starts."), field="signup_deadline")
    capacity = ops.whole(capacity, "capacity", minimum=1, maximum=CAPACITY_MAX)
    fee_fen = ops.whole(fee_fen, "fee_fen", maximum=FEE_MAX_FEN)
    with ctx.uow(PERM_MANAGE) as uow:
        community = ops.get_or_404(uow.session, Community, community_id, "Community")
        if starts_at <= uow.now:
            raise ValidationError(N_("The activity must start in the future."), field="starts_at")
        a = Activity(
            id=new_id(),
            community_id=community.id,
            title=title,
            content=content,
            place=place,
            starts_at=starts_at,
            ends_at=ends_at,
            signup_deadline=signup_deadline,
            capacity=capacity,
            fee_fen=fee_fen,
            status="planned",
            version=1,
            created_at=uow.now,
        )
        uow.session.add(a)
        uow.session.flush()
        ops.record_change(uow, OBJ_ACTIVITY, a.id, "plan", None, "planned")
        view = _view(a)
        uow.audit("prop_activity.plan", OBJ_ACTIVITY, a.id, after=view.__dict__)
        uow.emit(EVENT_ACTIVITY, {**view.__dict__, "action": "plan"})
        return view


def publish(ctx: Context, activity_id: uuid.UUID) -> ActivityView:
    with ctx.uow(PERM_MANAGE) as uow:
        a = ops.get_or_404(uow.session, Activity, activity_id, "Activity")
        ops.transition(
            uow, MACHINE, a, "publish", values={"published_at": uow.now}, payload={"title": a.title}
        )
        return _view(a)


def finish(ctx: Context, activity_id: uuid.UUID) -> ActivityView:
    with ctx.uow(PERM_MANAGE) as uow:
        a = ops.get_or_404(uow.session, Activity, activity_id, "Activity")
        MACHINE.target("finish", a.status)
        if uow.now < a.starts_at:
            raise StateError(N_("The activity has not started yet."))
        ops.transition(uow, MACHINE, a, "finish")
        return _view(a)


def cancel(ctx: Context, activity_id: uuid.UUID, reason: str) -> ActivityView:
    """Call the activity off: every sign-up is cancelled and its charge withdrawn (refund due if already paid)."""
    reason = ops.text(reason, "reason")
    with ctx.uow(PERM_MANAGE) as uow:
        a = ops.get_or_404(uow.session, Activity, activity_id, "Activity")
        ops.transition(uow, MACHINE, a, "cancel", reason=reason)
        for s in _signups(uow, a.id, ("confirmed", "waitlisted")):
            _cancel_signup(uow, s, "activity_cancelled")
        return _view(a)


def _lock(uow: UnitOfWork, activity_id: uuid.UUID) -> Activity:
    a = uow.session.execute(
        select(Activity).where(Activity.id == ops.as_uuid(activity_id, "Activity")).with_for_update()
    ).scalar_one_or_none()
    if a is None:
        ops.get_or_404(uow.session, Activity, activity_id, "Activity")
    return a


def _signups(uow: UnitOfWork, activity_id: uuid.UUID, statuses: tuple[str, ...]) -> list[ActivitySignup]:
    return (
        uow.session.execute(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_(statuses))
            .order_by(ActivitySignup.queue_no)
        )
        .scalars()
        .all()
    )


def _seats_taken(uow: UnitOfWork, activity_id: uuid.UUID) -> int:
    return uow.session.execute(
        select(func.coalesce(func.sum(ActivitySignup.party_size), 0)).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.status == "confirmed"
        )
    ).scalar_one()


def _confirm(uow: UnitOfWork, a: Activity, s: ActivitySignup, action: str) -> None:
    values = {"status": "confirmed", "confirmed_at": uow.now}
    if a.fee_fen:
        charge = ops.record_charge(
            uow,
            source_type="activity",
            source_id=s.id,
            amount_fen=a.fee_fen * s.party_size,
            subject=f"活动费 {a.title}",
            community_id=a.community_id,
            house_id=s.house_id,
            owner_id=s.owner_id,
        )
        values["charge_id"] = charge.id
    before = s.status
    _cas(uow, s, before, values)
    ops.record_change(uow, OBJ_SIGNUP, s.id, action, before, "confirmed")
    uow.emit(
        EVENT_SIGNUP,
        {
            "id": s.id,
            "activity_id": a.id,
            "owner_id": s.owner_id,
            "action": action,
            "status": "confirmed",
            "party_size": s.party_size,
            "at": uow.now,
        },
    )


def _cas(uow: UnitOfWork, s: ActivitySignup, expected: str, values: dict) -> None:
    result = uow.session.execute(
        update(ActivitySignup)
        .where(ActivitySignup.id == s.id, ActivitySignup.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateError(ops.CHANGED_MEANWHILE)
    uow.session.refresh(s)


def _promote(uow: UnitOfWork, a: Activity) -> list[ActivitySignup]:
    """Confirm waiting sign-ups in queue order while the next one fits (nobody jumps the queue)."""
    free = a.capacity - _seats_taken(uow, a.id)
    promoted = []
    for s in _signups(uow, a.id, ("waitlisted",)):
        if s.party_size > free:
            break
        _confirm(uow, a, s, "promote")
        free -= s.party_size
        promoted.append(s)
    return promoted


def signup(
    ctx: Context,
    activity_id: uuid.UUID,
    owner_id: uuid.UUID,
    *,
    party_size: int = 1,
    house_id: uuid.UUID | None = None,
) -> SignupView:
    """Sign an owner up. With room (and nobody waiting ahead) the place is confirmed — and charged if the activity
    has a fee; otherwise the owner joins the end of the waiting list. Once per owner and activity."""
    party_size = ops.whole(party_size, "party_size", minimum=1, maximum=PARTY_MAX)
    with ctx.uow(PERM_SIGNUP) as uow:
        a = _lock(uow, activity_id)
        owner = ops.get_or_404(uow.session, Owner, owner_id, "Owner")
        if (
            house_id is not None
            and ops.get_or_404(uow.session, House, house_id, "House").community_id != a.community_id
        ):
            raise ValidationError(N_("The house is not in this community."), field="house_id")
        if a.status != "published":
            raise StateError(N_("Sign-up is only open for published activities."), status=a.status)
        if uow.now >= (a.signup_deadline or a.starts_at):
            raise StateError(N_("Sign-up for this activity has closed."))
        if party_size > a.capacity:
            raise ValidationError(N_("The party is larger than the activity's capacity."), field="party_size")
        s = uow.session.execute(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == a.id, ActivitySignup.owner_id == owner.id
            )
        ).scalar_one_or_none()
        if s is not None and s.status != "cancelled":
            raise Conflict(N_("This owner has already signed up."))
        queue_no = (
            uow.session.execute(
                select(func.coalesce(func.max(ActivitySignup.queue_no), 0)).where(
                    ActivitySignup.activity_id == a.id
                )
            ).scalar_one()
            + 1
        )
        hid = None if house_id is None else ops.as_uuid(house_id, "House")
        if s is None:
            s = ActivitySignup(
                id=new_id(),
                activity_id=a.id,
                owner_id=owner.id,
                house_id=hid,
                party_size=party_size,
                status="waitlisted",
                queue_no=queue_no,
                attended=False,
                signed_up_at=uow.now,
            )
            uow.session.add(s)
            uow.session.flush()
            ops.record_change(uow, OBJ_SIGNUP, s.id, "signup", None, "waitlisted")
        else:  # signing up again after cancelling: to the back of the queue
            _cas(
                uow,
                s,
                "cancelled",
                {
                    "status": "waitlisted",
                    "queue_no": queue_no,
                    "party_size": party_size,
                    "house_id": hid,
                    "signed_up_at": uow.now,
                    "cancelled_at": None,
                    "charge_id": None,
                    "confirmed_at": None,
                },
            )
            ops.record_change(uow, OBJ_SIGNUP, s.id, "signup", "cancelled", "waitlisted")
        uow.audit(
            "prop_activity.signup", OBJ_SIGNUP, s.id, after={"owner_id": owner.id, "party_size": party_size}
        )
        uow.emit(
            EVENT_SIGNUP,
            {
                "id": s.id,
                "activity_id": a.id,
                "owner_id": owner.id,
                "action": "signup",
                "status": "waitlisted",
                "party_size": party_size,
                "at": uow.now,
            },
        )
        _promote(uow, a)
        return _sview(s)


def _cancel_signup(uow: UnitOfWork, s: ActivitySignup, reason: str) -> None:
    before = s.status
    _cas(uow, s, before, {"status": "cancelled", "cancelled_at": uow.now})
    if s.charge_id is not None:
        ops.withdraw_charge(uow, s.charge_id)
    ops.record_change(uow, OBJ_SIGNUP, s.id, "cancel", before, "cancelled", reason=reason)
    uow.audit(
        "prop_activity.signup_cancel",
        OBJ_SIGNUP,
        s.id,
        before={"status": before},
        after={"status": "cancelled", "reason": reason},
    )
    uow.emit(
        EVENT_SIGNUP,
        {
            "id": s.id,
            "activity_id": s.activity_id,
            "owner_id": s.owner_id,
            "action": "cancel",
            "status": "cancelled",
            "reason": reason,
            "at": uow.now,
        },
    )


def cancel_signup(
    ctx: Context, activity_id: uuid.UUID, owner_id: uuid.UUID, reason: str = "owner"
) -> list[SignupView]:
    """Cancel an owner's sign-up (its charge is withdrawn); returns the sign-ups promoted from the waiting list."""
    reason = ops.text(reason, "reason", 200)
    with ctx.uow(PERM_SIGNUP) as uow:
        a = _lock(uow, activity_id)
        if a.status != "published":
            raise StateError(N_("Sign-ups can only change while the activity is published."), status=a.status)
        s = uow.session.execute(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == a.id,
                ActivitySignup.owner_id == ops.as_uuid(owner_id, "Owner"),
                ActivitySignup.status != "cancelled",
            )
        ).scalar_one_or_none()
        if s is None:
            raise ValidationError(N_("This owner has not signed up."), field="owner_id")
        _cancel_signup(uow, s, reason)
        return [_sview(p) for p in _promote(uow, a)]


def record_attendance(ctx: Context, activity_id: uuid.UUID, owner_ids: list[uuid.UUID]) -> int:
    """Mark confirmed sign-ups as attended (once the activity has started). Returns how many were marked."""
    ids = [ops.as_uuid(o, "Owner") for o in owner_ids]
    with ctx.uow(PERM_MANAGE) as uow:
        a = ops.get_or_404(uow.session, Activity, activity_id, "Activity")
        if a.status not in ("published", "finished") or uow.now < a.starts_at:
            raise StateError(N_("Attendance is recorded once the activity has started."))
        confirmed = {s.owner_id: s for s in _signups(uow, a.id, ("confirmed",))}
        strangers = [o for o in ids if o not in confirmed]
        if strangers:
            raise ValidationError(N_("Only confirmed sign-ups can attend."), field="owner_ids")
        marked = 0
        for o in dict.fromkeys(ids):
            s = confirmed[o]
            if not s.attended:
                s.attended = True
                marked += 1
        uow.session.flush()
        uow.audit("prop_activity.attendance", OBJ_ACTIVITY, a.id, after={"owners": [str(i) for i in ids]})
        uow.emit(EVENT_ACTIVITY, {"id": a.id, "action": "attendance", "owners": ids, "at": uow.now})
        return marked


def list_signups(ctx: Context, activity_id: uuid.UUID) -> list[SignupView]:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == ops.as_uuid(activity_id, "Activity"))
            .order_by(ActivitySignup.queue_no)
        ).scalars()
        return [_sview(r) for r in rows]


def statistics(ctx: Context, activity_id: uuid.UUID) -> ActivityStats:
    with ctx.read(PERM_VIEW) as s:
        a = ops.get_or_404(s, Activity, activity_id, "Activity")
        rows = s.execute(
            select(ActivitySignup.status, ActivitySignup.party_size, ActivitySignup.attended).where(
                ActivitySignup.activity_id == a.id
            )
        ).all()
    conf = [p for st, p, _ in rows if st == "confirmed"]
    wait = [p for st, p, _ in rows if st == "waitlisted"]
    return ActivityStats(
        capacity=a.capacity,
        confirmed_people=sum(conf),
        confirmed_signups=len(conf),
        waitlisted_people=sum(wait),
        waitlisted_signups=len(wait),
        cancelled_signups=sum(1 for st, _, _ in rows if st == "cancelled"),
        attended_people=sum(p for st, p, att in rows if st == "confirmed" and att),
        fee_expected_fen=a.fee_fen * sum(conf),
    )
