"""Documents -> model: lifecycle charts, workflows and job documents, checked and located."""
