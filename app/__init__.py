"""The application: command line, mode selection and the assembly of the actor tree."""
