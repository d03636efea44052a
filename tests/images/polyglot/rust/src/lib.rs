// Only here so cargo accepts the manifest; nothing is built.
