"""Hand-ordered lists (a product's images, a school's uniform list): move one row up or
down and number them again."""


def move(rows: list, row, direction: str) -> bool:
    """Swap ``row`` with its neighbour above (``"up"``) or below and renumber every row's
    ``position``; ``False`` (nothing changes) at either end."""
    index = rows.index(row)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(rows):
        return False
    rows[index], rows[target] = rows[target], rows[index]
    for position, each in enumerate(rows):
        each.position = position
    return True
