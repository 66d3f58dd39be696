"""The console's services, built from one unit of work's services."""

from __future__ import annotations

from engine.console.repository import ConsoleRepository
from engine.console.rules import ConsoleRules
from engine.processes.container import Services


def console_rules(services: Services) -> ConsoleRules:
    repo = ConsoleRepository(services.session)
    return ConsoleRules(services.catalog, repo, services.history, services.clock)
