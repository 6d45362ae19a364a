"""Errors a user can cause. Each carries one line a person can act on."""


class CaptionerError(Exception):
    """Base for user-facing errors: the message is shown as is, without a traceback."""


class MediaError(CaptionerError):
    """The input is missing, empty, not media, or has no audio to caption.

    ``kind`` lets the web layer pick an HTTP status without parsing the message.
    """

    def __init__(self, message: str, kind: str = "not_media") -> None:
        super().__init__(message)
        # missing, empty, not_media, unsupported, no_audio, undecodable, too_long,
        # picture_too_large, limit
        self.kind = kind


class ModelNotFoundError(CaptionerError):
    """The requested Whisper model is not installed locally."""
