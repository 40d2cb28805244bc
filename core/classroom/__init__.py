"""The gradient-descent classroom: lessons, the exact loss landscape, Play, and projector contrast."""

from core.classroom.landscape import Quadratic, observed_lane, predict_lane
from core.classroom.lessons import LESSONS, Lane, Lesson, Surface, surface

__all__ = ["LESSONS", "Lane", "Lesson", "Quadratic", "Surface", "observed_lane", "predict_lane", "surface"]
