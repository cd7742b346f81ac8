"""Demo data: one sample community from the reports, loaded through the registry's HTTP API.

东李庄社区 of 高桥营街道 is cut into 5 zones (片区), each with its grid worker. About 300
residents live there in about 120 households; elders have health records, every elder living
alone or bedridden has a care group (三人关爱小组) with a few visit logs (民情日志), and every
orphan or child in difficulty has a guardian on record (a parent, or a grandparent for the orphan).
One care group is already overdue for its daily visit, so the missed-visit alert runs at once.

The tables are in the package's demo_data.toml; `demo_community(seed, today)` makes the
community from them and is a pure function. `load_demo(urls, jwt_secret)` posts it to a running
registry over HTTP, so a demo exercises the same paths as real callers, and sends only what is
missing, so a load that was stopped half-way is finished by the next. Names, ID numbers and phone
numbers are made up; phone numbers start with 100, which no real mobile number does.
"""

from __future__ import annotations

from linli_registry.demo.bodies import (
    care_group_body,
    grid_body,
    health_body,
    household_body,
    resident_body,
    visit_body,
)
from linli_registry.demo.care import needs_care_group, visit_time
from linli_registry.demo.community import demo_community
from linli_registry.demo.loader import load_demo
from linli_registry.demo.model import (
    DemoCareGroup,
    DemoCommunity,
    DemoGrid,
    DemoHealth,
    DemoHousehold,
    DemoMoment,
    DemoPerson,
    DemoVisit,
)
from linli_shared.demo_api import DemoLoadError

__all__ = [
    "DemoCareGroup",
    "DemoCommunity",
    "DemoGrid",
    "DemoHealth",
    "DemoHousehold",
    "DemoLoadError",
    "DemoMoment",
    "DemoPerson",
    "DemoVisit",
    "care_group_body",
    "demo_community",
    "grid_body",
    "health_body",
    "household_body",
    "load_demo",
    "needs_care_group",
    "resident_body",
    "visit_body",
    "visit_time",
]
