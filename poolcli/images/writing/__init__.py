"""Writing images: the nearest mode a format holds and the writer for it (:mod:`.save`),
mode conversions that keep meaning (:mod:`.fitting`), and poolcli's own writers: a
parallel PNG writer (:mod:`.png`) and frame-exact animations (:mod:`.animation`)."""
