"""Post-hoc changes to a trained model: BERT-whitening, threshold calibration, distillation."""
