"""A `Screen` over the desktop portal's screen cast: one monitor per shared stream, placed where the portal
says (logical units), its frames read over PipeWire in device pixels (see capture/portal.py)."""

from __future__ import annotations

from desktop_agent.capture.frame import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, ScreenFrame, check_image_size
from desktop_agent.capture.pipewire_frames import PipeWireStream
from desktop_agent.capture.portal import PortalSession, PortalStream, release_session, shared_session
from desktop_agent.errors import AgentError, MonitorLayoutError
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout


class PortalScreen:
    """Captures every monitor the person shared through the desktop portal."""

    def __init__(self, session: PortalSession | None = None) -> None:
        self._owned = session is None
        self.session = session or shared_session()
        self._readers: dict[int, PipeWireStream] = {}

    def _reader(self, stream: PortalStream) -> PipeWireStream:
        reader = self._readers.get(stream.node)
        if reader is None:
            reader = PipeWireStream(self.session.pipewire_fd(), stream.node)
            self._readers[stream.node] = reader
        return reader

    def layout(self) -> ScreenLayout:
        """The shared monitors; the one at the desktop's origin (else the first) is the primary. The scale is
        a frame's pixels per logical unit."""
        monitors = []
        for i, s in enumerate(self.session.streams):
            h, w = self._reader(s).frame().shape[:2]
            why = check_image_size(w, h)
            if why:
                raise MonitorLayoutError(f"the shared monitor {i + 1} captures {w}x{h} pixels, more than "
                                         f"desktop-agent reads (at most {MAX_IMAGE_SIDE} a side and "
                                         f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
            monitors.append(Monitor(i + 1, s.left, s.top, s.width, s.height, round(w / s.width, 4), False,
                                    f"portal-{s.node}"))
        origin = min(monitors, key=lambda m: (m.left != 0 or m.top != 0, m.top, m.left))
        return ScreenLayout(tuple(m if m is not origin else Monitor(m.index, m.left, m.top, m.width, m.height,
                                                                       m.scale, True, m.name) for m in monitors))

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """The monitor's newest frame, in device pixels."""
        stream = next((s for s in self.session.streams if f"portal-{s.node}" == monitor.name), None)
        if stream is None:
            raise AgentError(f"monitor {monitor.index} is not one the desktop shares")
        image = self._reader(stream).frame()
        return ScreenFrame(image, FrameGeometry(monitor, image.shape[1], image.shape[0]))

    def close(self) -> None:
        """Stop reading the streams; the session ends with its last holder."""
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        if self._owned:
            release_session(self.session)
