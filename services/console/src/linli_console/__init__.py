"""邻里工作台: server-rendered pages that sign a person in and call the services with their own token."""
