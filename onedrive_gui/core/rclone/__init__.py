"""The rclone engine: locate the binary, run one ``rclone rcd`` and drive it over rc."""
