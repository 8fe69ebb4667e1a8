"""Export a torchvision model's state dict to ``.npz`` or ``.safetensors`` for minitorch_cnn.

    python tools/export_torchvision_weights.py resnet50 resnet50.npz [--pretrained]

Needs torch and torchvision (not dependencies of minitorch_cnn). Without ``--pretrained`` the
weights are torchvision's random initialisation (what the oracle tests compare). Load with::

    from minitorch_cnn.models import resnet50, load_weights
    model = load_weights(resnet50(), "resnet50.npz").eval()

torchvision's pretrained ``googlenet`` and ``inception_v3`` drop their auxiliary heads and
expect ``transform_input=True``: build ``googlenet(aux_logits=False, transform_input=True)``
(and ``load_weights(..., strict=False)`` for inception_v3, whose file keeps ``AuxLogits``).
"""
import argparse
import warnings


def export(name, path, pretrained=False):
    import torchvision
    warnings.filterwarnings("ignore", category=FutureWarning)  # googlenet's init warning
    kwargs = {"weights": "DEFAULT"} if pretrained else {}
    if name in ("googlenet", "inception_v3") and not pretrained:
        kwargs["init_weights"] = True
    model = getattr(torchvision.models, name)(**kwargs)
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    if path.endswith(".safetensors"):
        from safetensors.numpy import save_file
        save_file(state, path)
    else:
        import numpy as np
        np.savez(path, **state)
    return state


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="torchvision model name: resnet50, vgg16_bn, ...")
    parser.add_argument("path", help="output file, .npz or .safetensors")
    parser.add_argument("--pretrained", action="store_true",
                        help="torchvision's ImageNet weights (downloads them)")
    args = parser.parse_args(argv)
    state = export(args.name, args.path, args.pretrained)
    print(f"wrote {len(state)} tensors to {args.path}")


if __name__ == "__main__":
    main()
