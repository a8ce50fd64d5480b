"""Training: the LightningDataModule, the LightningModule, calibration and export."""
