"""Which file of each icon set draws each class (names as the sets ship them).

Sets (all from the npm registry, pinned in package.json): lucide-static (ISC), @tabler/icons (MIT,
outline style), bootstrap-icons (MIT), @mdi/svg (Material Design Icons, Apache-2.0). An entry may list
several files; a missing file is skipped.
"""

from __future__ import annotations

# class -> {set: [file stems]}
SOURCES: dict[str, dict[str, list[str]]] = {
    "save": {
        "lucide": ["save"],
        "tabler": ["device-floppy"],
        "bootstrap": ["floppy", "save"],
        "mdi": ["content-save", "content-save-outline"],
    },
    "delete": {
        "lucide": ["trash", "trash-2"],
        "tabler": ["trash"],
        "bootstrap": ["trash", "trash3"],
        "mdi": ["delete", "delete-outline", "trash-can-outline"],
    },
    "search": {"lucide": ["search"], "tabler": ["search"], "bootstrap": ["search"], "mdi": ["magnify"]},
    "settings": {
        "lucide": ["settings", "cog"],
        "tabler": ["settings"],
        "bootstrap": ["gear", "gear-wide"],
        "mdi": ["cog", "cog-outline"],
    },
    "close": {"lucide": ["x"], "tabler": ["x"], "bootstrap": ["x", "x-lg"], "mdi": ["close"]},
    "add": {"lucide": ["plus"], "tabler": ["plus"], "bootstrap": ["plus", "plus-lg"], "mdi": ["plus"]},
    "edit": {
        "lucide": ["pencil", "pen"],
        "tabler": ["pencil", "edit"],
        "bootstrap": ["pencil"],
        "mdi": ["pencil", "pencil-outline"],
    },
    "refresh": {
        "lucide": ["refresh-cw", "rotate-cw"],
        "tabler": ["refresh", "reload"],
        "bootstrap": ["arrow-repeat"],
        "mdi": ["refresh", "reload"],
    },
    "back": {"lucide": ["arrow-left"], "tabler": ["arrow-left"], "bootstrap": ["arrow-left"], "mdi": ["arrow-left"]},
    "forward": {
        "lucide": ["arrow-right"],
        "tabler": ["arrow-right"],
        "bootstrap": ["arrow-right"],
        "mdi": ["arrow-right"],
    },
    "home": {"lucide": ["house", "home"], "tabler": ["home"], "bootstrap": ["house"], "mdi": ["home", "home-outline"]},
    "menu": {"lucide": ["menu"], "tabler": ["menu-2"], "bootstrap": ["list"], "mdi": ["menu"]},
    "more": {
        "lucide": ["ellipsis", "ellipsis-vertical"],
        "tabler": ["dots", "dots-vertical"],
        "bootstrap": ["three-dots", "three-dots-vertical"],
        "mdi": ["dots-horizontal", "dots-vertical"],
    },
    "download": {"lucide": ["download"], "tabler": ["download"], "bootstrap": ["download"], "mdi": ["download"]},
    "upload": {"lucide": ["upload"], "tabler": ["upload"], "bootstrap": ["upload"], "mdi": ["upload"]},
    "share": {
        "lucide": ["share", "share-2"],
        "tabler": ["share", "share-2"],
        "bootstrap": ["share"],
        "mdi": ["share-variant", "share-variant-outline"],
    },
    "copy": {"lucide": ["copy"], "tabler": ["copy"], "bootstrap": ["copy", "files"], "mdi": ["content-copy"]},
    "paste": {
        "lucide": ["clipboard-paste", "clipboard"],
        "tabler": ["clipboard"],
        "bootstrap": ["clipboard"],
        "mdi": ["content-paste"],
    },
    "undo": {
        "lucide": ["undo", "undo-2"],
        "tabler": ["arrow-back-up"],
        "bootstrap": ["arrow-counterclockwise"],
        "mdi": ["undo", "undo-variant"],
    },
    "redo": {
        "lucide": ["redo", "redo-2"],
        "tabler": ["arrow-forward-up"],
        "bootstrap": [],
        "mdi": ["redo", "redo-variant"],
    },
    "bold": {"lucide": ["bold"], "tabler": ["bold"], "bootstrap": ["type-bold"], "mdi": ["format-bold"]},
    "italic": {"lucide": ["italic"], "tabler": ["italic"], "bootstrap": ["type-italic"], "mdi": ["format-italic"]},
    "underline": {
        "lucide": ["underline"],
        "tabler": ["underline"],
        "bootstrap": ["type-underline"],
        "mdi": ["format-underline"],
    },
    "strikethrough": {
        "lucide": ["strikethrough"],
        "tabler": ["strikethrough"],
        "bootstrap": ["type-strikethrough"],
        "mdi": ["format-strikethrough-variant", "format-strikethrough"],
    },
    "align_left": {
        "lucide": ["align-left", "text-align-start"],
        "tabler": ["align-left"],
        "bootstrap": ["text-left"],
        "mdi": ["format-align-left"],
    },
    "align_center": {
        "lucide": ["align-center", "text-align-center"],
        "tabler": ["align-center"],
        "bootstrap": ["text-center"],
        "mdi": ["format-align-center"],
    },
    "align_right": {
        "lucide": ["align-right", "text-align-end"],
        "tabler": ["align-right"],
        "bootstrap": ["text-right"],
        "mdi": ["format-align-right"],
    },
    "align_justify": {
        "lucide": ["align-justify", "text-align-justify"],
        "tabler": ["align-justified"],
        "bootstrap": ["justify"],
        "mdi": ["format-align-justify"],
    },
    "list_bullet": {"lucide": ["list"], "tabler": ["list"], "bootstrap": ["list-ul"], "mdi": ["format-list-bulleted"]},
    "list_numbered": {
        "lucide": ["list-ordered"],
        "tabler": ["list-numbers"],
        "bootstrap": ["list-ol"],
        "mdi": ["format-list-numbered"],
    },
    "indent": {
        "lucide": ["indent-increase", "list-indent-increase"],
        "tabler": ["indent-increase"],
        "bootstrap": ["text-indent-left"],
        "mdi": ["format-indent-increase"],
    },
    "outdent": {
        "lucide": ["indent-decrease", "list-indent-decrease"],
        "tabler": ["indent-decrease"],
        "bootstrap": ["text-indent-right"],
        "mdi": ["format-indent-decrease"],
    },
    "link": {
        "lucide": ["link", "link-2"],
        "tabler": ["link"],
        "bootstrap": ["link", "link-45deg"],
        "mdi": ["link", "link-variant"],
    },
    "image": {"lucide": ["image"], "tabler": ["photo"], "bootstrap": ["image"], "mdi": ["image", "image-outline"]},
    "table": {"lucide": ["table", "sheet"], "tabler": ["table"], "bootstrap": ["table"], "mdi": ["table"]},
    "code": {
        "lucide": ["code", "code-xml"],
        "tabler": ["code"],
        "bootstrap": ["code", "code-slash"],
        "mdi": ["code-tags", "xml"],
    },
    "play": {"lucide": ["play"], "tabler": ["player-play"], "bootstrap": ["play", "play-fill"], "mdi": ["play"]},
    "pause": {"lucide": ["pause"], "tabler": ["player-pause"], "bootstrap": ["pause", "pause-fill"], "mdi": ["pause"]},
    "stop": {"lucide": ["square"], "tabler": ["player-stop"], "bootstrap": ["stop", "stop-fill"], "mdi": ["stop"]},
    "star": {
        "lucide": ["star"],
        "tabler": ["star"],
        "bootstrap": ["star", "star-fill"],
        "mdi": ["star", "star-outline"],
    },
    "heart": {
        "lucide": ["heart"],
        "tabler": ["heart"],
        "bootstrap": ["heart", "heart-fill"],
        "mdi": ["heart", "heart-outline"],
    },
    "user": {"lucide": ["user"], "tabler": ["user"], "bootstrap": ["person"], "mdi": ["account", "account-outline"]},
    "lock": {"lucide": ["lock"], "tabler": ["lock"], "bootstrap": ["lock"], "mdi": ["lock", "lock-outline"]},
    "mail": {"lucide": ["mail"], "tabler": ["mail"], "bootstrap": ["envelope"], "mdi": ["email", "email-outline"]},
    "calendar": {
        "lucide": ["calendar"],
        "tabler": ["calendar"],
        "bootstrap": ["calendar"],
        "mdi": ["calendar", "calendar-blank"],
    },
    "filter": {
        "lucide": ["funnel", "filter"],
        "tabler": ["filter"],
        "bootstrap": ["funnel"],
        "mdi": ["filter", "filter-outline"],
    },
    "zoom_in": {
        "lucide": ["zoom-in"],
        "tabler": ["zoom-in"],
        "bootstrap": ["zoom-in"],
        "mdi": ["magnify-plus-outline"],
    },
    "zoom_out": {
        "lucide": ["zoom-out"],
        "tabler": ["zoom-out"],
        "bootstrap": ["zoom-out"],
        "mdi": ["magnify-minus-outline"],
    },
    "folder": {
        "lucide": ["folder"],
        "tabler": ["folder"],
        "bootstrap": ["folder"],
        "mdi": ["folder", "folder-outline"],
    },
    "file": {
        "lucide": ["file"],
        "tabler": ["file"],
        "bootstrap": ["file-earmark", "file"],
        "mdi": ["file", "file-outline"],
    },
    "print": {"lucide": ["printer"], "tabler": ["printer"], "bootstrap": ["printer"], "mdi": ["printer"]},
    "info": {
        "lucide": ["info"],
        "tabler": ["info-circle"],
        "bootstrap": ["info-circle"],
        "mdi": ["information", "information-outline"],
    },
    "help": {
        "lucide": ["circle-help", "help-circle"],
        "tabler": ["help", "help-circle"],
        "bootstrap": ["question-circle"],
        "mdi": ["help-circle", "help-circle-outline"],
    },
    "fullscreen": {
        "lucide": ["maximize", "expand"],
        "tabler": ["maximize"],
        "bootstrap": ["fullscreen", "arrows-fullscreen"],
        "mdi": ["fullscreen"],
    },
    "preview": {"lucide": ["eye"], "tabler": ["eye"], "bootstrap": ["eye"], "mdi": ["eye", "eye-outline"]},
    "light_mode": {
        "lucide": ["sun"],
        "tabler": ["sun"],
        "bootstrap": ["sun"],
        "mdi": ["white-balance-sunny", "weather-sunny"],
    },
    "dark_mode": {
        "lucide": ["moon"],
        "tabler": ["moon"],
        "bootstrap": ["moon"],
        "mdi": ["weather-night", "moon-waning-crescent"],
    },
    "chevron_down": {
        "lucide": ["chevron-down"],
        "tabler": ["chevron-down"],
        "bootstrap": ["chevron-down"],
        "mdi": ["chevron-down"],
    },
    "chevron_up": {
        "lucide": ["chevron-up"],
        "tabler": ["chevron-up"],
        "bootstrap": ["chevron-up"],
        "mdi": ["chevron-up"],
    },
    "check": {"lucide": ["check"], "tabler": ["check"], "bootstrap": ["check", "check-lg"], "mdi": ["check"]},
    "minus": {"lucide": ["minus"], "tabler": ["minus"], "bootstrap": ["dash", "dash-lg"], "mdi": ["minus"]},
    "cut": {"lucide": ["scissors"], "tabler": ["scissors"], "bootstrap": ["scissors"], "mdi": ["content-cut"]},
    "clear_formatting": {
        "lucide": ["remove-formatting"],
        "tabler": ["clear-formatting"],
        "bootstrap": ["eraser"],
        "mdi": ["format-clear"],
    },
    "quote": {"lucide": ["quote"], "tabler": ["quote"], "bootstrap": ["quote"], "mdi": ["format-quote-close"]},
    "bell": {"lucide": ["bell"], "tabler": ["bell"], "bootstrap": ["bell"], "mdi": ["bell", "bell-outline"]},
    "attach": {"lucide": ["paperclip"], "tabler": ["paperclip"], "bootstrap": ["paperclip"], "mdi": ["paperclip"]},
    "send": {"lucide": ["send"], "tabler": ["send"], "bootstrap": ["send"], "mdi": ["send"]},
    "external_link": {
        "lucide": ["external-link", "square-arrow-out-up-right"],
        "tabler": ["external-link"],
        "bootstrap": ["box-arrow-up-right"],
        "mdi": ["open-in-new"],
    },
}

SET_DIRS = {
    "lucide": "node_modules/lucide-static/icons",
    "tabler": "node_modules/@tabler/icons/icons/outline",
    "bootstrap": "node_modules/bootstrap-icons/icons",
    "mdi": "node_modules/@mdi/svg/svg",
}
SET_LICENSES = {
    "lucide": "lucide-static 1.62.0, ISC",
    "tabler": "@tabler/icons 3.51.0, MIT",
    "bootstrap": "bootstrap-icons 1.13.2, MIT",
    "mdi": "@mdi/svg 7.4.47, Apache-2.0",
}

# The sets added later are mapped by name: each class lists the names the common sets give its icon
# (kebab-case; Material's underscores and Octicons' size suffixes are handled in `stems_for`). Every
# name that a set ships is used, at most MAX_PER_STYLE per style.
MAX_PER_STYLE = 3
ALIASES: dict[str, list[str]] = {
    "save": ["floppy-disk", "save", "content-save", "device-floppy", "floppy-disk-back"],
    "delete": ["trash", "delete", "trash-can", "trash-simple", "delete-outline", "trash-2"],
    "search": ["search", "magnifying-glass", "magnify", "magnifying-glass-simple"],
    "settings": ["settings", "gear", "cog", "gear-six", "cog-6-tooth", "gear-fine"],
    "close": ["x", "close", "xmark", "x-mark"],
    "add": ["plus", "add", "plus-large"],
    "edit": ["pencil", "edit", "pencil-simple", "pen", "pencil-square"],
    "refresh": ["refresh", "arrows-clockwise", "arrow-path", "sync", "arrows-rotate"],
    "back": ["arrow-left", "arrow-back"],
    "forward": ["arrow-right", "arrow-forward"],
    "home": ["home", "house", "house-simple"],
    "menu": ["menu", "bars", "bars-3", "three-bars", "hamburger"],
    "more": ["more-horiz", "more-vert", "dots-three", "dots-three-vertical", "ellipsis", "ellipsis-vertical",
             "ellipsis-horizontal", "kebab-horizontal", "kebab-vertical"],
    "download": ["download", "download-simple", "arrow-down-tray", "cloud-download"],
    "upload": ["upload", "upload-simple", "arrow-up-tray", "cloud-upload"],
    "share": ["share", "share-network", "share-nodes", "share-fat"],
    "copy": ["copy", "content-copy", "copy-simple", "document-duplicate", "clone"],
    "paste": ["content-paste", "clipboard", "paste", "clipboard-text", "clipboard-document"],
    "undo": ["undo", "arrow-counter-clockwise", "arrow-u-up-left", "rotate-left", "arrow-uturn-left", "discard"],
    "redo": ["redo", "arrow-u-up-right", "arrow-uturn-right"],
    "bold": ["bold", "format-bold", "text-b", "type-bold"],
    "italic": ["italic", "format-italic", "text-italic", "type-italic"],
    "underline": ["underline", "format-underlined", "text-underline", "format-underline"],
    "strikethrough": ["strikethrough", "format-strikethrough", "text-strikethrough", "strikethrough-s"],
    "align_left": ["align-left", "format-align-left", "text-align-left", "bars-3-bottom-left"],
    "align_center": ["align-center", "format-align-center", "text-align-center"],
    "align_right": ["align-right", "format-align-right", "text-align-right", "bars-3-bottom-right"],
    "align_justify": ["align-justify", "format-align-justify", "text-align-justify"],
    "list_bullet": ["format-list-bulleted", "list-bullets", "list-ul", "list-unordered", "list-bullet"],
    "list_numbered": ["format-list-numbered", "list-numbers", "list-ol", "list-ordered", "numbered-list"],
    "indent": ["format-indent-increase", "text-indent", "indent"],
    "outdent": ["format-indent-decrease", "text-outdent", "outdent"],
    "link": ["link", "link-simple", "insert-link", "link-simple-horizontal"],
    "image": ["image", "photo", "insert-photo", "image-square"],
    "table": ["table", "table-chart", "table-cells"],
    "code": ["code", "code-simple", "code-bracket", "file-code"],
    "play": ["play", "play-arrow", "play-circle"],
    "pause": ["pause", "pause-circle"],
    "stop": ["stop", "stop-circle"],
    "star": ["star", "star-border", "star-outline"],
    "heart": ["heart", "favorite", "favorite-border"],
    "user": ["user", "person", "account", "account-circle", "user-circle"],
    "lock": ["lock", "lock-simple", "lock-closed", "lock-key"],
    "mail": ["mail", "envelope", "email", "envelope-simple"],
    "calendar": ["calendar", "calendar-today", "calendar-blank", "calendar-days", "calendar-month"],
    "filter": ["filter", "funnel", "filter-alt", "funnel-simple", "filter-list"],
    "zoom_in": ["zoom-in", "magnifying-glass-plus", "search-plus"],
    "zoom_out": ["zoom-out", "magnifying-glass-minus", "search-minus"],
    "folder": ["folder", "folder-simple", "folder-open"],
    "file": ["file", "description", "document", "file-text", "file-blank", "insert-drive-file"],
    "print": ["print", "printer"],
    "info": ["info", "information", "information-circle", "circle-info"],
    "help": ["help", "question", "question-mark", "help-outline", "question-mark-circle", "circle-question"],
    "fullscreen": ["fullscreen", "arrows-out", "screen-full", "arrows-pointing-out", "maximize"],
    "preview": ["eye", "visibility", "preview"],
    "light_mode": ["light-mode", "sun", "sun-dim", "wb-sunny"],
    "dark_mode": ["dark-mode", "moon", "moon-stars", "bedtime", "nightlight"],
    "chevron_down": ["chevron-down", "expand-more", "caret-down", "keyboard-arrow-down"],
    "chevron_up": ["chevron-up", "expand-less", "caret-up", "keyboard-arrow-up"],
    "check": ["check", "done", "checkmark"],
    "minus": ["minus", "remove", "dash"],
    "cut": ["content-cut", "scissors", "cut"],
    "clear_formatting": ["format-clear", "eraser", "clear-formatting", "text-t-slash"],
    "quote": ["format-quote", "quotes", "quote", "quote-left", "quote-right"],
    "bell": ["bell", "notifications", "bell-simple"],
    "attach": ["attach-file", "paperclip", "attachment"],
    "send": ["send", "paper-plane", "paper-plane-right", "paper-airplane", "paper-plane-tilt"],
    "external_link": ["open-in-new", "arrow-square-out", "link-external", "arrow-top-right-on-square",
                      "up-right-from-square", "external-link"],
    # Classes added with the larger icon sets.
    "text_color": ["format-color-text", "text-color", "text-aa", "palette-text"],
    "highlight": ["highlighter", "highlight", "format-color-highlight", "marker", "border-color",
                  "highlighter-circle"],
    "special_character": ["omega", "format-letter-case-omega", "symbol", "character-omega"],
    "emoji": ["smiley", "emoji-emotions", "mood", "face-smile", "emoji-happy", "emoticon-happy-outline", "smile",
              "emoticon-outline", "mood-smile"],
    "subscript": ["subscript", "format-subscript", "text-subscript"],
    "superscript": ["superscript", "format-superscript", "text-superscript"],
    "comment": ["comment", "chat", "chat-bubble", "chat-circle", "message-square", "message", "comment-discussion",
                "chat-bubble-left", "chat-bubble-outline"],
    "bookmark": ["bookmark", "bookmark-simple", "bookmark-border", "bookmark-outline"],
    "history": ["history", "clock-counter-clockwise", "clock-rotate-left", "restore"],
    "sort": ["sort", "sort-ascending", "sort-descending", "arrows-down-up", "arrow-up-down", "arrows-up-down"],
    "tag": ["tag", "label", "tag-simple", "tag-outline"],
    "location": ["location-on", "map-pin", "location", "place", "map-marker", "location-dot", "geo-alt"],
    "phone": ["phone", "call", "telephone", "phone-call"],
    "camera": ["camera", "photo-camera", "camera-alt"],
    "microphone": ["mic", "microphone", "mic-none"],
    "volume": ["volume-up", "speaker-high", "volume-high", "volume-2", "speaker-wave", "unmute", "volume-full"],
    "mute": ["volume-off", "speaker-x", "volume-xmark", "volume-x", "mute", "speaker-slash", "volume-mute"],
    "cloud": ["cloud", "cloud-queue"],
    "chart": ["bar-chart", "chart-bar", "insert-chart", "chart-line", "graph", "chart-column", "poll"],
    "terminal": ["terminal", "terminal-window", "command-line"],
    "language": ["language", "globe", "globe-simple", "world", "public", "earth"],
    "logout": ["logout", "sign-out", "box-arrow-right", "arrow-right-on-rectangle", "right-from-bracket",
               "arrow-right-start-on-rectangle"],
    "login": ["login", "sign-in", "box-arrow-in-right", "arrow-left-on-rectangle", "right-to-bracket",
              "arrow-right-end-on-rectangle"],
    "grid_view": ["grid-view", "grid-four", "squares-2x2", "view-grid", "grid", "table-cells-large", "apps"],
}

# Each added set, by style (its own "set" below, so that `other` samples every style).
STYLE_DIRS = {
    "material-filled": ("node_modules/@material-design-icons/svg/filled", "material"),
    "material-outlined": ("node_modules/@material-design-icons/svg/outlined", "material"),
    "material-round": ("node_modules/@material-design-icons/svg/round", "material"),
    "phosphor-regular": ("node_modules/@phosphor-icons/core/assets/regular", "plain"),
    "phosphor-bold": ("node_modules/@phosphor-icons/core/assets/bold", "phosphor-bold"),
    "phosphor-fill": ("node_modules/@phosphor-icons/core/assets/fill", "phosphor-fill"),
    "fontawesome-solid": ("node_modules/@fortawesome/fontawesome-free/svgs/solid", "plain"),
    "fontawesome-regular": ("node_modules/@fortawesome/fontawesome-free/svgs/regular", "plain"),
    "octicons": ("node_modules/@primer/octicons/build/svg", "octicons"),
    "heroicons-outline": ("node_modules/heroicons/24/outline", "plain"),
    "heroicons-solid": ("node_modules/heroicons/24/solid", "plain"),
    "codicons": ("node_modules/@vscode/codicons/src/icons", "plain"),
}
STYLE_LICENSES = {
    "material": "@material-design-icons/svg 0.14.15 (Google Material Icons), Apache-2.0",
    "phosphor": "@phosphor-icons/core 2.1.1, MIT",
    "fontawesome": "@fortawesome/fontawesome-free 7.3.1, icons CC-BY-4.0",
    "octicons": "@primer/octicons 19.42.0, MIT",
    "heroicons": "heroicons 2.2.0, MIT",
    "codicons": "@vscode/codicons 0.0.45, CC-BY-4.0",
}


# Names that mean something else in one set (Material's "highlight" is a flashlight).
NOT_IN = {"material": {"highlight"}}


def stems_for(name: str, naming: str) -> list[str]:
    """File stems an alias may have in a style with the given naming."""
    if name in NOT_IN.get(naming, ()):
        return []
    if naming == "material":
        return [name.replace("-", "_")]
    if naming == "octicons":
        return [f"{name}-24", f"{name}-16"]
    if naming == "phosphor-bold":
        return [f"{name}-bold"]
    if naming == "phosphor-fill":
        return [f"{name}-fill"]
    return [name]
