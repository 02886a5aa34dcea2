"""Two CPU processes (gloo): gathered in-batch negatives keep the local gradient."""

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from simsent.losses.functional import gather_with_grad
from simsent.losses.simcse import UnsupervisedSimCSELoss


def _worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.manual_seed(0)
    z1_all, z2_all = torch.randn(8, 5), torch.randn(8, 5)
    z1 = z1_all[rank * 4 : (rank + 1) * 4].clone().requires_grad_(True)
    z2 = z2_all[rank * 4 : (rank + 1) * 4].clone().requires_grad_(True)
    g1, g2 = gather_with_grad(z1), gather_with_grad(z2)
    loss = UnsupervisedSimCSELoss.compute(g1, g2, 0.05, "paper")
    loss.backward()
    torch.save(
        {"loss": loss.detach(), "grad": z1.grad, "shape": tuple(g1.shape)},
        os.path.join(out_dir, f"{rank}.pt"),
    )
    dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not built")
def test_two_processes_match_one_big_batch(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    torch.manual_seed(0)
    z1_all = torch.randn(8, 5).requires_grad_(True)
    z2_all = torch.randn(8, 5).requires_grad_(True)
    full = UnsupervisedSimCSELoss.compute(z1_all, z2_all, 0.05, "paper")
    full.backward()
    for rank in (0, 1):
        got = torch.load(tmp_path / f"{rank}.pt")
        assert got["shape"] == (8, 5)
        torch.testing.assert_close(got["loss"], full.detach())
        torch.testing.assert_close(got["grad"], z1_all.grad[rank * 4 : (rank + 1) * 4])


def test_single_process_is_identity():
    z = torch.randn(3, 2)
    assert gather_with_grad(z) is z
