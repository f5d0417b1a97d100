"""Run the same work in several threads that start together (a barrier), each with a
connection of its own: what several requests or writers at once do to the database."""

import threading
from collections.abc import Callable


def run_at_once(copies: int, work: Callable[[int], None], timeout: float = 60) -> list:
    """``work(number)`` for ``number`` in ``range(copies)``, each in its own thread, all
    released at once; → the exceptions they raised (the test must hear of them)."""
    barrier = threading.Barrier(copies)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(number)
        except BaseException as error:  # the test must hear of it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
