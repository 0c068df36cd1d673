"""Personal data in datasets: recognisers, column verdicts and the dataset scanner."""
