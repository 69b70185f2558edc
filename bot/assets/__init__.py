"""Files the bot ships: the DejaVu fonts (Unicode, for the PDF exports), with their licence."""

from pathlib import Path

FONTS = Path(__file__).parent / "fonts"
SANS = FONTS / "DejaVuSans.ttf"
SANS_BOLD = FONTS / "DejaVuSans-Bold.ttf"
