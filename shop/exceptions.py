"""The domain error family. Rule modules raise these; views turn them into a flash and
a 4xx re-render. ``message`` is safe to show a user (views translate it)."""


class ShopError(Exception):
    message = "That could not be done."

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.message)
