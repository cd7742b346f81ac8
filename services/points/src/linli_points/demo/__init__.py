"""Demo data for the points service: 东李庄社区's volunteers, loaded through the points HTTP API.

The registry's demo makes the community and its residents; this one makes what the points service
keeps for it, as the 东李庄 report tells it: a volunteer team of about 33 (the community's party
members and some other adults) in six teams, activities whose confirmed hours earn points, a love
supermarket stocked from donations and purchases where a few of those points were spent, a wish
wall with wishes in several states, and one neighbour-help offer matched to a request.

The data is `demo_data.toml` (read by `data`); `plan` makes the choices from the registry's
residents and the request bodies; `loader` posts them, resumably. Volunteers are enrolled with
their registry resident id, which the points service learns from the registry's events a little
later: an enrolment answered 422 "not known" is retried until `timeout` passes.
"""

from linli_points.demo.data import (
    ACTIVITIES,
    COMMUNITY,
    COMMUNITY_NAME,
    COMMUNITY_WORKER,
    DEFAULT_SKILLS,
    DISTRICT,
    HELP_OFFER,
    HELP_REQUEST,
    ITEMS,
    MIN_OTHER_VOLUNTEERS,
    OLDEST_VOLUNTEER,
    PARTY_SKILLS,
    PAST_ACTIVITY_END_MARGIN,
    REDEMPTIONS,
    SKILL_SLOTS,
    TEAMS,
    VOLUNTEER_TARGET,
    WISHES,
    DemoActivity,
    DemoItem,
    DemoTeam,
    DemoWish,
)
from linli_points.demo.loader import load_demo
from linli_points.demo.plan import (
    VolunteerPlan,
    activity_body,
    activity_window,
    choose_help_residents,
    choose_sign_ups,
    choose_wish_residents,
    item_body,
    plan_volunteers,
    team_body,
    volunteer_body,
    whole_minutes,
)
from linli_shared.demo_api import RETRY_PAUSE, DemoLoadError

__all__ = [
    "ACTIVITIES",
    "COMMUNITY",
    "COMMUNITY_NAME",
    "COMMUNITY_WORKER",
    "DEFAULT_SKILLS",
    "DISTRICT",
    "HELP_OFFER",
    "HELP_REQUEST",
    "ITEMS",
    "MIN_OTHER_VOLUNTEERS",
    "OLDEST_VOLUNTEER",
    "PARTY_SKILLS",
    "PAST_ACTIVITY_END_MARGIN",
    "REDEMPTIONS",
    "RETRY_PAUSE",
    "SKILL_SLOTS",
    "TEAMS",
    "VOLUNTEER_TARGET",
    "WISHES",
    "DemoActivity",
    "DemoItem",
    "DemoLoadError",
    "DemoTeam",
    "DemoWish",
    "VolunteerPlan",
    "activity_body",
    "activity_window",
    "choose_help_residents",
    "choose_sign_ups",
    "choose_wish_residents",
    "item_body",
    "load_demo",
    "plan_volunteers",
    "team_body",
    "volunteer_body",
    "whole_minutes",
]
