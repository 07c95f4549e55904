-- The office's site settings (issue 23): its name, logo, colours and footer, used by every
-- public page, the embed player and the feed's browser view. One row (id 1) once an admin saves
-- them; without it Siaran's defaults apply (domain::site::Site::default). Colours are `#rrggbb`;
-- `header_colour` NULL is no coloured header bar. `logo` is JSON of domain::ShowArtwork.
CREATE TABLE site_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    ppid_contact TEXT NOT NULL,
    accent_colour TEXT NOT NULL,
    header_colour TEXT,
    logo TEXT,
    updated_at BIGINT NOT NULL
);
