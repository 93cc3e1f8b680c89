"""``thirdway-agent enrol|run|once|status``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from thirdway_agent import config as configuration
from thirdway_agent import inventory
from thirdway_agent.agent import Agent
from thirdway_agent.client import Refused, Server, Unauthorized, Unreachable


def enrol(args) -> int:
    found = inventory.gather()
    server = Server(args.server)
    try:
        answer = server.enrol(args.token, found)
    except Unauthorized:
        print("The enrolment token is unknown, used, revoked or expired.", file=sys.stderr)
        return 2
    except (Unreachable, Refused) as error:
        print(f"Could not enrol: {error}", file=sys.stderr)
        return 1
    finally:
        server.close()
    config = configuration.Config(
        server=args.server,
        agent_id=answer["agent_id"],
        secret=answer["secret"],
        state_dir=str(args.state_dir),
    )
    configuration.save(config, args.config)
    agent = Agent(config)
    agent.apply_config(answer["config"])
    agent.send_inventory(force=True)
    agent.close()
    print(f"Enrolled as agent {answer['agent_id']}; configuration in {args.config}.")
    return 0


def _agent(args) -> Agent:
    return Agent(configuration.load(args.config))


def run(args) -> int:
    agent = _agent(args)
    try:
        agent.run()
    except Unauthorized:
        return 2
    finally:
        agent.close()
    return 0


def once(args) -> int:
    agent = _agent(args)
    try:
        outcome = agent.cycle()
    except Unauthorized:
        print("The server refused this agent's secret: enrol it again.", file=sys.stderr)
        return 2
    finally:
        agent.close()
    print(json.dumps(outcome))
    return 0 if outcome["alive"] else 1


def status(args) -> int:
    agent = _agent(args)
    print(json.dumps(agent.status(), indent=2))
    agent.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thirdway-agent")
    parser.add_argument("--config", type=Path, default=configuration.DEFAULT_PATH)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    enrolling = commands.add_parser("enrol", help="enrol this machine with a token")
    enrolling.add_argument("--server", required=True, help="e.g. https://thirdway.example")
    enrolling.add_argument("--token", required=True, help="the enrolment token (twen_...)")
    enrolling.add_argument("--state-dir", type=Path, default=configuration.DEFAULT_STATE_DIR)
    commands.add_parser("run", help="run until stopped")
    commands.add_parser("once", help="one round: heartbeat, checks, delivery")
    commands.add_parser("status", help="what the agent knows, as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    handlers = {"enrol": enrol, "run": run, "once": once, "status": status}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
