"""The dispatcher: claims due texts from the database and hands them to the provider."""
