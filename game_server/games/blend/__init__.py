"""Beat Hunt (after Google's Beat Blender): find a hidden beat on a blended drum grid by ear."""

from .game import GAME

__all__ = ["GAME"]
